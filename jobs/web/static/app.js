// hedui serve: the few lines of script the page needs (it works without them too).
document.addEventListener("DOMContentLoaded", function () {
  // filters apply as soon as one changes
  document.querySelectorAll("form[data-autosubmit] select").forEach(function (el) {
    el.addEventListener("change", function () {
      var form = el.form;
      Array.prototype.forEach.call(form.elements, function (f) {   // no empty parameters in the URL
        if (f.name && !f.value) { f.disabled = true; }
      });
      form.submit();
    });
  });
  // the counts are open on wide screens, folded on phones
  if (window.matchMedia("(min-width: 721px)").matches) {
    document.querySelectorAll("details[data-open-wide]").forEach(function (d) { d.open = true; });
  }
  // confirm before withdrawing an outcome
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  });
});
