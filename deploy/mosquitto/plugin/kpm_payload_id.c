/*
 * kpm_payload_id: a Mosquitto 2.0 plugin (plugin API v5) that binds a meter's credentials to
 * the meter code it may publish as.
 *
 * Under Compere MQTT V1.9 every meter publishes on the same topics and names itself only by
 * the "id" in its JSON payload, so ACLs (which see topics, not payloads) cannot stop a client
 * holding one meter's password from publishing readings as another meter. This plugin looks
 * at every PUBLISH (MOSQ_EVT_MESSAGE) from a client whose username is not a trusted platform
 * user and accepts it only if the payload is a JSON object whose top-level "id" members (any
 * letter case, as ingest reads them) are all strings equal to that client's username. Anything
 * it cannot be sure of is refused: no username, no "id", an escaped key or value, a payload
 * that does not start as a JSON object. A refused message is acknowledged to the client and
 * dropped (MOSQ_ERR_ACL_DENIED); nobody receives it.
 *
 * Options (mosquitto.conf):
 *   plugin /usr/lib/kpm-fleet/kpm_payload_id.so
 *   plugin_opt_trusted_users kpm-fleet-ingest      (comma separated; publish anything)
 *   plugin_opt_checked_topics MQTT_RT_DATA,...     (comma separated; default: the four
 *                                                   telemetry topics ingest stores)
 * Other topics pass unchecked: the ACL limits a meter to its uplink and reply topics, and a
 * reply is matched to its command by a random 32-character oprid that only the addressed
 * meter ever sees, so replies need no "id" (the document's examples do not always carry one).
 *
 * Build: make mosquitto-plugin (needs Debian's mosquitto-dev and libmosquitto-dev).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#define MAX_NAMES 16
#define MAX_NAME 128
#define MAX_DEPTH 64
#define TELEMETRY_TOPICS "MQTT_RT_DATA,MQTT_ENY_NOW,MQTT_DAY_DATA,MQTT_TELEIND"

/* A short list of names from a comma separated option. */
struct names {
	char name[MAX_NAMES][MAX_NAME];
	int count;
};

static mosquitto_plugin_id_t *plugin_id;
static struct names trusted;
static struct names checked;

/* A cursor over the payload bytes. */
struct scan {
	const char *p;
	const char *end;
};

static void skip_space(struct scan *s)
{
	while(s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')){
		s->p++;
	}
}

/* At an opening quote: the string's bytes without quotes; false if unterminated. Sets
 * *escaped when it holds a backslash (the decoded text could then differ from the bytes). */
static bool read_string(struct scan *s, const char **start, size_t *len, bool *escaped)
{
	*escaped = false;
	s->p++;
	*start = s->p;
	while(s->p < s->end){
		if(*s->p == '\\'){
			*escaped = true;
			if(s->end - s->p < 2){
				return false;
			}
			s->p += 2;
			continue;
		}
		if(*s->p == '"'){
			*len = (size_t)(s->p - *start);
			s->p++;
			return true;
		}
		s->p++;
	}
	return false;
}

/* Skip one member value of any kind, up to (not over) the ',' or '}' that ends it: strings
 * whole (so brackets and commas inside them do not count), containers by their depth. */
static bool skip_value(struct scan *s)
{
	int depth = 0;
	const char *start;
	size_t len;
	bool escaped;

	while(s->p < s->end){
		char c = *s->p;
		if(c == '"'){
			if(!read_string(s, &start, &len, &escaped)){
				return false;
			}
			continue;
		}
		if(depth == 0 && (c == ',' || c == '}')){
			return true;
		}
		if(c == '{' || c == '['){
			if(++depth > MAX_DEPTH){
				return false;
			}
		}else if(c == '}' || c == ']'){
			if(--depth < 0){
				return false;
			}
		}
		s->p++;
	}
	return false;
}

static bool is_id_key(const char *key, size_t len)
{
	return len == 2 && (key[0] == 'i' || key[0] == 'I') && (key[1] == 'd' || key[1] == 'D');
}

/* True if the payload is a JSON object whose every top-level "id" is exactly ``username``. */
static bool payload_names(const char *payload, uint32_t payloadlen, const char *username)
{
	struct scan s = {payload, payload + payloadlen};
	const char *key, *value;
	size_t key_len, value_len, name_len = strlen(username);
	bool escaped, found = false;

	skip_space(&s);
	if(s.p >= s.end || *s.p != '{'){
		return false;
	}
	s.p++;
	for(;;){
		skip_space(&s);
		if(s.p >= s.end){
			return false;
		}
		if(*s.p == '}'){
			return found;
		}
		if(*s.p != '"' || !read_string(&s, &key, &key_len, &escaped) || escaped){
			return false;
		}
		skip_space(&s);
		if(s.p >= s.end || *s.p != ':'){
			return false;
		}
		s.p++;
		skip_space(&s);
		if(is_id_key(key, key_len)){
			if(s.p >= s.end || *s.p != '"' || !read_string(&s, &value, &value_len, &escaped)
					|| escaped || value_len != name_len || memcmp(value, username, name_len)){
				return false;
			}
			found = true;
		}else if(!skip_value(&s)){
			return false;
		}
		skip_space(&s);
		if(s.p < s.end && *s.p == ','){
			s.p++;
		}
	}
}

static bool listed(const struct names *names, const char *name)
{
	for(int i = 0; i < names->count; i++){
		if(!strcmp(names->name[i], name)){
			return true;
		}
	}
	return false;
}

static int on_message(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_message *msg = event_data;
	const char *username = mosquitto_client_username(msg->client);
	(void)event;
	(void)userdata;

	if(!msg->topic || !listed(&checked, msg->topic) || (username && listed(&trusted, username))){
		return MOSQ_ERR_SUCCESS;
	}
	if(username && msg->payload && payload_names(msg->payload, msg->payloadlen, username)){
		return MOSQ_ERR_SUCCESS;
	}
	mosquitto_log_printf(MOSQ_LOG_WARNING, "kpm_payload_id: refused a message on %s from "
			"user %s: its payload does not name that meter as its \"id\"",
			msg->topic ? msg->topic : "?", username ? username : "(none)");
	return MOSQ_ERR_ACL_DENIED;
}

static void set_names(struct names *names, const char *list)
{
	const char *p = list;
	names->count = 0;
	p += strspn(p, ", ");
	while(*p && names->count < MAX_NAMES){
		size_t len = strcspn(p, ", ");
		if(len < MAX_NAME){
			memcpy(names->name[names->count], p, len);
			names->name[names->count][len] = '\0';
			names->count++;
		}
		p += len;
		p += strspn(p, ", ");
	}
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	for(int i = 0; i < supported_version_count; i++){
		if(supported_versions[i] == 5){
			return 5;
		}
	}
	return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
		struct mosquitto_opt *options, int option_count)
{
	(void)userdata;
	plugin_id = identifier;
	set_names(&trusted, "");
	set_names(&checked, TELEMETRY_TOPICS);
	for(int i = 0; i < option_count; i++){
		if(!strcmp(options[i].key, "trusted_users")){
			set_names(&trusted, options[i].value);
		}else if(!strcmp(options[i].key, "checked_topics")){
			set_names(&checked, options[i].value);
		}
	}
	return mosquitto_callback_register(plugin_id, MOSQ_EVT_MESSAGE, on_message, NULL, NULL);
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
	(void)userdata;
	(void)options;
	(void)option_count;
	return mosquitto_callback_unregister(plugin_id, MOSQ_EVT_MESSAGE, on_message, NULL);
}
