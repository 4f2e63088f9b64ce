// Starts Redoc on /api/docs/ (templates/api/redoc.html); a file of its own, so that the page's
// Content-Security-Policy needs no inline script.
(function () {
  var container = document.getElementById("redoc-container");
  var settings = JSON.parse(document.getElementById("redoc-settings").textContent || "{}");
  Redoc.init(container.dataset.schemaUrl, settings, container);
})();
