// The wallboard's figures, refreshed in place every data-refresh seconds from data-source
// (templates/portal/wallboard.html).
(function () {
  var tiles = document.getElementById("tiles");
  var every = parseInt(tiles.dataset.refresh, 10) * 1000;
  function set(el, cls, value) { var n = el.querySelector("." + cls); if (n) n.textContent = value; }
  function refresh() {
    fetch(tiles.dataset.source, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        data.figures.forEach(function (f) {
          var el = tiles.querySelector('[data-key="' + f.key + '"]');
          if (!el) { window.location.reload(); return; }
          set(el, "in-use", f.in_use); set(el, "licensed", f.licensed); set(el, "server-in-use", f.server_in_use);
          set(el, "available", f.available); set(el, "denials", f.denials_today);
          set(el, "utilisation", f.utilisation); set(el, "cap-utilisation", f.cap_utilisation);
          el.classList.toggle("exceeded", f.exceeded);
          el.dataset.state = f.pool_state;
          set(el, "state-icon", f.pool_icon); set(el, "state-text", f.pool_label);
        });
        document.getElementById("updated").textContent = data.updated;
      })
      .catch(function () {
        var el = document.getElementById("updated");
        if (el.textContent.indexOf("offline") < 0) el.textContent += " (offline: retrying)";
      });
  }
  setInterval(refresh, every);
  window.iwpWallboardRefresh = refresh;
})();
