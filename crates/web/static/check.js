// Optional: read a chosen CSV file into the codes box (the form works without this).
// UTF-8 first; GB18030 (common for spreadsheets saved in China) when UTF-8 fails.
(function () {
  var file = document.getElementById('b-file');
  var label = document.getElementById('b-file-label');
  var box = document.getElementById('b-codes');
  if (!file || !box || !window.TextDecoder) return;
  file.hidden = false;
  if (label) label.hidden = false;
  file.addEventListener('change', function () {
    var f = file.files && file.files[0];
    if (!f) return;
    f.arrayBuffer().then(function (buf) {
      var text;
      try { text = new TextDecoder('utf-8', { fatal: true }).decode(buf); } catch (e) { text = new TextDecoder('gb18030').decode(buf); }
      box.value = text;
    });
  });
})();
