// The transcript's print view (views.TranscriptPrintPage): its Print button.
// A file of its own, since the pages' CSP allows no inline script.
document.addEventListener('click', function (e) {
  if (e.target.closest && e.target.closest('[data-print]')) window.print();
});
