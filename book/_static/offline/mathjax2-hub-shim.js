/* ipywidgets' controls typeset their labels with MathJax 2's API,
 * MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]), whenever window.MathJax
 * exists. The book uses MathJax 3, which has no Hub: map the call onto
 * MathJax.typesetPromise so widget labels are typeset instead of throwing. */
(function () {
  function install() {
    var mj = window.MathJax;
    if (!mj || mj.Hub) { return; }
    mj.Hub = {
      Queue: function (command) {
        var element = command && command[2];
        if (element && window.MathJax.typesetPromise) {
          window.MathJax.typesetPromise([element]).catch(function () {});
        }
      }
    };
  }
  install();
  document.addEventListener("DOMContentLoaded", install);
  window.addEventListener("load", install);
})();
