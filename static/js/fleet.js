/* KPM Fleet page helpers. Polling pauses in hidden tabs through hx-trigger filters
   ("every 5s [document.visibilityState === 'visible']"); this refreshes the polled parts as soon
   as the tab becomes visible again so an operator never looks at stale counts. */
document.addEventListener("visibilitychange", function () {
  if (document.visibilityState !== "visible" || !window.htmx) { return; }
  document.querySelectorAll("[data-refresh-on-visible]").forEach(function (el) {
    window.htmx.trigger(el, "refresh");
  });
});

/* Long form submissions (CSV import) show progress: the upload's percentage as the browser
   sends it, then an indeterminate bar while the server validates or saves. Forms opt in with
   data-progress and hold a hidden <span class="progress"> with a <progress> inside. */
document.addEventListener("htmx:beforeRequest", function (evt) {
  var box = evt.target.closest && evt.target.closest("form[data-progress]");
  if (!box) { return; }
  var progress = box.querySelector(".progress");
  if (progress) { progress.hidden = false; }
  box.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
});
document.addEventListener("htmx:xhr:progress", function (evt) {
  var box = evt.target.closest && evt.target.closest("form[data-progress]");
  if (!box || !evt.detail.lengthComputable) { return; }
  var bar = box.querySelector(".progress progress");
  var label = box.querySelector(".progress .progress-label");
  var percent = Math.round(100 * evt.detail.loaded / evt.detail.total);
  if (percent < 100) {
    bar.value = percent;
    if (label) { label.textContent = "uploading " + percent + "%"; }
  } else {
    bar.removeAttribute("value");  /* indeterminate while the server works */
    if (label) { label.textContent = "checking every row…"; }
  }
});
document.addEventListener("htmx:responseError", function (evt) {
  var box = evt.target.closest && evt.target.closest("form[data-progress]");
  if (!box) { return; }
  var label = box.querySelector(".progress .progress-label");
  box.querySelector(".progress progress").hidden = true;
  if (label) { label.textContent = "the server refused this (" + evt.detail.xhr.status + "); reload the page"; }
  box.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
});

/* The time-zone switch: "My time zone" means the browser's own IANA zone. */
document.addEventListener("submit", function (evt) {
  var form = evt.target;
  if (!form.matches || !form.matches("form[data-time-zone-control]")) { return; }
  try {
    form.querySelector("input[name=mine]").value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch (e) { /* keep the zone the server had */ }
}, true);
