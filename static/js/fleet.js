/* KPM Fleet page helpers. Polling pauses in hidden tabs through hx-trigger filters
   ("every 5s [document.visibilityState === 'visible']"); this refreshes the polled parts as soon
   as the tab becomes visible again so an operator never looks at stale counts. */
document.addEventListener("visibilitychange", function () {
  if (document.visibilityState !== "visible" || !window.htmx) { return; }
  document.querySelectorAll("[data-refresh-on-visible]").forEach(function (el) {
    window.htmx.trigger(el, "refresh");
  });
});
