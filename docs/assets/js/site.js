// course_lib docs: KaTeX auto-render and offline lunr search. No network access:
// katex/lunr are served from assets/vendor/ (copied from Debian packages by tools/build_site.sh).
(function () {
  'use strict';

  function renderMath() {
    var el = document.getElementById('content');
    if (!el || typeof renderMathInElement !== 'function') return;
    renderMathInElement(el, {
      delimiters: [
        {left: '$$', right: '$$', display: true},
        {left: '\\[', right: '\\]', display: true},
        {left: '$', right: '$', display: false},
        {left: '\\(', right: '\\)', display: false}
      ],
      ignoredClasses: ['input_area', 'output_text', 'output_stream', 'highlight', 'nomath'],
      throwOnError: false
    });
  }

  var index = null, docs = {}, loading = null;

  function loadIndex(url) {
    if (loading) return loading;
    loading = fetch(url).then(function (r) {
      if (!r.ok) throw new Error('search index: HTTP ' + r.status);
      return r.json();
    }).then(function (records) {
      records.forEach(function (d) { docs[d.url] = d; });
      index = lunr(function () {
        this.ref('url');
        this.field('title', {boost: 10});
        this.field('summary', {boost: 3});
        this.field('body');
        records.forEach(function (d) { this.add(d); }, this);
      });
      return index;
    });
    return loading;
  }

  function search(q) {
    var terms = q.toLowerCase().split(/[^\w]+/).filter(Boolean);
    if (!terms.length) return [];
    return index.query(function (query) {
      terms.forEach(function (t) {
        query.term(t, {boost: 10});
        query.term(t, {boost: 1, wildcard: lunr.Query.wildcard.TRAILING});
      });
    });
  }

  function snippet(text, q) {
    var i = text.toLowerCase().indexOf(q.toLowerCase().split(/\s+/)[0]);
    if (i < 0) return text.slice(0, 120);
    var start = Math.max(0, i - 50);
    return (start > 0 ? '…' : '') + text.slice(start, start + 140) + '…';
  }

  function setupSearch() {
    var input = document.getElementById('search-input');
    var list = document.getElementById('search-results');
    if (!input || !list) return;
    var url = input.getAttribute('data-index');

    function show(q) {
      list.innerHTML = '';
      if (!q.trim()) { list.hidden = true; return; }
      var hits = search(q).slice(0, 10);
      if (!hits.length) {
        var li = document.createElement('li');
        li.className = 'search-empty';
        li.textContent = 'No results for “' + q + '”';
        list.appendChild(li);
      }
      hits.forEach(function (h) {
        var d = docs[h.ref];
        var li = document.createElement('li');
        var a = document.createElement('a');
        a.href = d.url;
        var t = document.createElement('span');
        t.className = 'search-title';
        t.textContent = d.title;
        var s = document.createElement('span');
        s.className = 'search-snippet';
        s.textContent = snippet(d.body || d.summary || '', q);
        a.appendChild(t); a.appendChild(s); li.appendChild(a); list.appendChild(li);
      });
      list.hidden = false;
    }

    input.addEventListener('focus', function () { loadIndex(url).catch(function (e) { console.warn(e); }); });
    input.addEventListener('input', function () {
      var q = input.value;
      loadIndex(url).then(function () { if (input.value === q) show(q); });
    });
    input.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') { list.hidden = true; input.blur(); }
      if (e.key === 'Enter') {
        var first = list.querySelector('a');
        if (first) window.location.href = first.href;
      }
    });
    document.addEventListener('click', function (e) {
      if (!e.target.closest('.search')) list.hidden = true;
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    renderMath();
    setupSearch();
  });
})();
