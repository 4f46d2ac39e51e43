// Marks a table that scrolls sideways (the portal's .table-wrap, the admin's change list): while
// it is wider than its box, the box gets a border, a keyboard stop and a label, and a hint above
// it says so. Without JavaScript the box still shows a shadow on the side where columns are hidden
// (static/iwp/portal.css, static/iwp/admin.css).
(function () {
  var HINT = "Scroll sideways to see every column \u21c6";
  function mark(wrap, i) {
    var over = wrap.scrollWidth > wrap.clientWidth + 1;
    var hint = wrap.previousElementSibling;
    if (!hint || !hint.classList.contains("scroll-hint")) {
      if (!over) return;
      hint = document.createElement("p");
      hint.className = "scroll-hint";
      hint.id = "scroll-hint-" + i;
      hint.textContent = HINT;
      wrap.parentNode.insertBefore(hint, wrap);
    }
    wrap.classList.toggle("overflowing", over);
    hint.classList.toggle("shown", over);
    if (over) {
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
      var heading = document.querySelector("h1");
      var label = wrap.dataset.label || (heading && heading.textContent.trim()) || "Table";
      wrap.setAttribute("aria-label", label + ", scrolls sideways");
    } else {
      ["tabindex", "role", "aria-label"].forEach(function (a) { wrap.removeAttribute(a); });
    }
  }
  function markAll() { Array.prototype.forEach.call(document.querySelectorAll(".table-wrap, #changelist-form .results"), mark); }
  var pending;
  window.addEventListener("resize", function () { clearTimeout(pending); pending = setTimeout(markAll, 100); });
  markAll();
})();
