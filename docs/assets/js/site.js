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

  // search.json (tools/site_extras.py): one record per page, section and API entry, each with its anchor
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
        this.field('page', {boost: 2});
        this.field('body');
        this.tokenizer.separator = /[\s\-_.()]+/;   // `Runner.fit`, `one_cycle` match their parts too
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
    var first = q.toLowerCase().split(/[^\w]+/).filter(Boolean)[0] || '';
    var i = first ? text.toLowerCase().indexOf(first) : -1;
    if (i < 0) return text.slice(0, 140) + (text.length > 140 ? '…' : '');
    var start = Math.max(0, text.lastIndexOf(' ', Math.max(0, i - 50)) + 1);
    return (start > 0 ? '…' : '') + text.slice(start, start + 160) + (start + 160 < text.length ? '…' : '');
  }

  function setupSearch() {
    var input = document.getElementById('search-input');
    var list = document.getElementById('search-results');
    if (!input || !list) return;
    var url = input.getAttribute('data-index');
    var selected = -1;

    function links() { return Array.prototype.slice.call(list.querySelectorAll('a')); }
    function select(i) {
      var as = links();
      if (!as.length) return;
      selected = (i + as.length) % as.length;
      as.forEach(function (a, j) { a.classList.toggle('selected', j === selected); a.setAttribute('aria-selected', j === selected); });
      as[selected].scrollIntoView({block: 'nearest'});
    }

    function show(q) {
      list.innerHTML = '';
      selected = -1;
      if (!q.trim()) { list.hidden = true; return; }
      var hits = search(q).slice(0, 12);
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
        a.setAttribute('role', 'option');
        var t = document.createElement('span');
        t.className = 'search-title';
        t.textContent = d.title;
        a.appendChild(t);
        if (d.page) {
          var p = document.createElement('span');
          p.className = 'search-page';
          p.textContent = (d.kind === 'entry' ? 'API · ' : '') + d.page;
          a.appendChild(p);
        }
        var s = document.createElement('span');
        s.className = 'search-snippet';
        s.textContent = snippet(d.body || '', q);
        a.appendChild(s); li.appendChild(a); list.appendChild(li);
      });
      list.hidden = false;
    }

    input.addEventListener('focus', function () { loadIndex(url).catch(function (e) { console.warn(e); }); });
    input.addEventListener('input', function () {
      var q = input.value;
      loadIndex(url).then(function () { if (input.value === q) show(q); });
    });
    input.addEventListener('keydown', function (e) {
      if (e.key === 'ArrowDown') { e.preventDefault(); select(selected + 1); }
      else if (e.key === 'ArrowUp') { e.preventDefault(); select(selected - 1); }
      else if (e.key === 'Escape') { list.hidden = true; input.blur(); }
      else if (e.key === 'Enter') {
        var as = links(), a = as[selected < 0 ? 0 : selected];
        if (a) { e.preventDefault(); list.hidden = true; window.location.href = a.href; }
      }
    });
    document.addEventListener('click', function (e) {
      if (!e.target.closest('.search')) list.hidden = true;
    });
    // following a result to an anchor on the current page: close the list
    list.addEventListener('click', function (e) { if (e.target.closest('a')) list.hidden = true; });
  }

  function foldToc() {   // on narrow screens the lessons and the page's contents sit above the text: start folded
    var box = document.querySelector('.toc-box'), side = document.querySelector('.sidebar-box');
    if (box && window.matchMedia('(max-width: 1439px)').matches) box.removeAttribute('open');
    if (side && window.matchMedia('(max-width: 820px)').matches) side.removeAttribute('open');
  }

  function zoomPlots() {   // a plot drawn wider than the column: click it to see it at full size (the output scrolls)
    Array.prototype.forEach.call(document.querySelectorAll('#content .output_area img'), function (img) {
      function mark() { img.classList.toggle('zoomable', img.naturalWidth > img.clientWidth + 1 || img.classList.contains('zoomed')); }
      if (img.complete) mark(); else img.addEventListener('load', mark);
      img.addEventListener('click', function () { if (img.classList.contains('zoomable')) img.classList.toggle('zoomed'); });
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    renderMath();
    setupSearch();
    foldToc();
    zoomPlots();
  });
})();
