/* Tariff editor: after each live check, mark the inputs named in the errors (their names are
   the error places, e.g. sets[0].day_tables.2[3].start) and let a listed error focus its input. */
(function () {
  "use strict";

  function markErrors() {
    var source = document.getElementById("plan-errors");
    if (!source) { return; }
    var errors = JSON.parse(source.textContent || "{}");
    document.querySelectorAll("#plan-fields [data-error-for]").forEach(function (span) {
      var reasons = errors[span.getAttribute("data-error-for")];
      span.textContent = reasons ? reasons.join("; ") : "";
    });
    document.querySelectorAll("#plan-fields [name]").forEach(function (input) {
      if (errors[input.name]) { input.setAttribute("aria-invalid", "true"); }
      else { input.removeAttribute("aria-invalid"); }
    });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-focus]");
    if (!link) { return; }
    event.preventDefault();
    var place = link.getAttribute("data-focus");
    var input = document.querySelector('#plan-fields [name="' + CSS.escape(place) + '"]') ||
      document.querySelector('#plan-fields [data-error-for="' + CSS.escape(place) + '"]');
    if (input) { input.scrollIntoView({block: "center"}); if (input.focus) { input.focus(); } }
  });
  document.addEventListener("htmx:afterSettle", markErrors);
  document.addEventListener("DOMContentLoaded", markErrors);
})();
