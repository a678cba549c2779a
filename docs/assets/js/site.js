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

  // search.json (tools/site_extras.py): one record per page, section and API entry, each with its anchor.
  // The index and the query are cut into words by the same function, `words`: a name is kept whole
  // (`get_data`, `Runner.fit`, `LR_Find`) and also split into its parts (`get`, `data`; `Distributed`,
  // `Data`, `Parallel` for `DistributedDataParallel`), so a name matches whole and a word matches inside names.
  var index = null, docs = {}, loading = null;

  function parts(w) {   // `LR_Find` -> LR, Find; `DistributedDataParallel` -> Distributed, Data, Parallel
    return w.split(/[._\-]+/).reduce(function (acc, p) {
      return acc.concat(p.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+[a-z]*|[^A-Za-z\d]+/g) || []);
    }, []).filter(function (p) { return /\w/.test(p); });
  }

  function words(text) {   // the whole names and their parts, lower case, in order
    var out = [];
    String(text || '').split(/[^\w.\-]+/).forEach(function (w) {
      w = w.replace(/^[.\-]+|[.\-]+$/g, '');
      if (!w) return;
      var lw = w.toLowerCase(), ps = parts(w);
      out.push(lw);
      if (ps.length > 1) ps.forEach(function (p) { out.push(p.toLowerCase()); });
    });
    return out;
  }

  function tokenizer(obj, metadata) {   // lunr's tokenizer interface, cutting as `words` does
    if (obj == null) return [];
    return words(Array.isArray(obj) ? obj.join(' ') : obj).map(function (w, i) {
      return new lunr.Token(w, lunr.utils.clone(metadata || {}) || {});
    });
  }

  function loadIndex(url) {
    if (loading) return loading;
    loading = fetch(url).then(function (r) {
      if (!r.ok) throw new Error('search index: HTTP ' + r.status);
      return r.json();
    }).then(function (records) {
      records.forEach(function (d) { docs[d.url] = d; });
      index = lunr(function () {
        this.ref('url');
        this.tokenizer = tokenizer;
        this.field('title', {boost: 10});
        this.field('page', {boost: 2});
        this.field('body');
        this.field('code', {boost: 0.3});
        records.forEach(function (d) { this.add(d); }, this);
      });
      return index;
    });
    return loading;
  }

  function search(q) {   // ranked records: a name typed exactly (same case first) before lunr's ranking
    var raw = q.split(/[^\w.\-]+/).map(function (w) { return w.replace(/^[.\-]+|[.\-]+$/g, ''); }).filter(Boolean);
    var terms = words(q);
    if (!terms.length) return [];
    var extra = [];
    for (var i = 0; i + 1 < raw.length; i++) extra.push((raw[i] + raw[i + 1]).toLowerCase());   // "batch norm" -> batchnorm
    raw.forEach(function (w) {   // DistributedDataParallel -> ddp
      var ps = parts(w);
      if (ps.length > 2) extra.push(ps.map(function (p) { return p[0]; }).join('').toLowerCase());
    });
    var hits = index.query(function (query) {
      terms.forEach(function (t) {
        query.term(t, {boost: 10});
        query.term(t, {boost: 1, wildcard: lunr.Query.wildcard.TRAILING});
      });
      extra.forEach(function (t) { query.term(t, {boost: 5}); });
    });
    var exact = q.trim(), lower = exact.toLowerCase();
    function rank(h) {
      var t = docs[h.ref].title;
      return t === exact ? 0 : t.toLowerCase() === lower ? 1 : 2;
    }
    return hits.map(function (h, i) { return {h: h, i: i, r: rank(h)}; })
      .sort(function (a, b) { return a.r - b.r || a.i - b.i; })
      .map(function (x) { return x.h; });
  }

  function snippet(text, q) {
    var low = text.toLowerCase(), i = -1;
    words(q).some(function (w) { i = low.indexOf(w); return i >= 0; });
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

  // for the site test: the URLs a query finds, best first
  window.courseSearch = function (q) {
    var url = document.getElementById('search-input').getAttribute('data-index');
    return loadIndex(url).then(function () { return search(q).map(function (h) { return h.ref; }); });
  };

  function foldToc() {   // on phones the lessons and the page's contents sit above the text: start folded
    var box = document.querySelector('.toc-box'), side = document.querySelector('.sidebar-box');
    if (box && window.matchMedia('(max-width: 1099px)').matches) box.removeAttribute('open');
    if (side && window.matchMedia('(max-width: 820px)').matches) side.removeAttribute('open');
  }

  function followToc() {   // the contents list marks the section being read and keeps it in view
    var links = Array.prototype.slice.call(document.querySelectorAll('#toc .toc-list a'));
    if (!links.length) return;
    var targets = links.map(function (a) { return document.getElementById(decodeURIComponent(a.getAttribute('href').slice(1))); });
    var current = -1, ticking = false;
    function update() {
      ticking = false;
      var bar = document.querySelector('.topbar').getBoundingClientRect().bottom, n = -1;
      targets.forEach(function (t, i) { if (t && t.getBoundingClientRect().top <= bar + 100) n = i; });
      if (n === current) return;
      if (current >= 0) links[current].classList.remove('current');
      current = n;
      if (n < 0) return;
      links[n].classList.add('current');
      var box = document.querySelector('#toc .toc-list');
      var lr = links[n].getBoundingClientRect(), br = box.getBoundingClientRect();
      if (lr.top < br.top || lr.bottom > br.bottom) box.scrollTop += lr.top - br.top - br.height / 3;
    }
    window.addEventListener('scroll', function () { if (!ticking) { ticking = true; requestAnimationFrame(update); } }, {passive: true});
    update();
  }

  function showActiveLesson() {   // the sidebar scrolls (by itself, not the page) to the page being read
    var side = document.querySelector('.sidebar'), a = side && side.querySelector('a.active');
    if (!a || side.scrollHeight <= side.clientHeight) return;
    var r = a.getBoundingClientRect(), q = side.getBoundingClientRect(), seen = Math.min(q.bottom, innerHeight) - q.top;
    if (r.top < q.top || r.bottom > q.top + seen) side.scrollTop += r.top - q.top - seen / 3;
  }

  function copyButtons() {   // a "Copy" button on every code cell and every code block of the prose
    Array.prototype.forEach.call(document.querySelectorAll('#content .input_area, #content .text_cell_render div.highlight'), function (area) {
      var pre = area.querySelector('pre');
      if (!pre) return;
      var b = document.createElement('button');
      b.type = 'button'; b.className = 'copy-code'; b.textContent = 'Copy';
      b.setAttribute('aria-label', 'Copy this code');
      b.addEventListener('click', function () {
        var text = pre.innerText.replace(/\n$/, '');
        var done = function () { b.textContent = 'Copied'; setTimeout(function () { b.textContent = 'Copy'; }, 1500); };
        if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, function () { b.textContent = 'Select and copy'; });
        else {
          var t = document.createElement('textarea');
          t.value = text; document.body.appendChild(t); t.select();
          try { document.execCommand('copy'); done(); } catch (e) { b.textContent = 'Select and copy'; }
          document.body.removeChild(t);
        }
      });
      // outside the box that scrolls sideways, so the button stays in the corner
      var holder = area.classList.contains('input_area') ? area.parentNode : area;
      holder.classList.add('has-copy');
      holder.insertBefore(b, holder.firstChild);
    });
  }

  function scrollCues() {   // a table or output wider than its box says so: a shadow at the edge and a hint
    var boxes = document.querySelectorAll('#content .table-scroll');
    function mark() {
      Array.prototype.forEach.call(boxes, function (box) {
        var more = box.scrollWidth > box.clientWidth + 1;
        box.classList.toggle('scrolls', more);
        box.classList.toggle('at-end', more && box.scrollLeft + box.clientWidth >= box.scrollWidth - 1);
        box.previousElementSibling.classList.toggle('shown', more);
      });
    }
    Array.prototype.forEach.call(boxes, function (box) {
      var hint = document.createElement('div');
      hint.className = 'scroll-hint'; hint.textContent = 'scroll sideways for more →';
      box.parentNode.insertBefore(hint, box);   // above the table, where the reader meets it
      box.addEventListener('scroll', mark, {passive: true});
    });
    window.addEventListener('resize', mark);
    mark();
  }

  function phoneNav() {   // below 820 px: a "Contents" button in the top bar and a button back to the top
    var bar = document.querySelector('.topbar'), toc = document.querySelector('#toc .toc-list');
    var side = document.querySelector('.sidebar');
    var panel = document.createElement('nav');
    panel.className = 'nav-panel'; panel.id = 'nav-panel'; panel.hidden = true;
    panel.setAttribute('aria-label', 'Contents');
    if (toc) {
      var h = document.createElement('div'); h.className = 'nav-panel-title'; h.textContent = 'On this page';
      panel.appendChild(h); panel.appendChild(toc.cloneNode(true));
    }
    if (side) {
      var h2 = document.createElement('div'); h2.className = 'nav-panel-title'; h2.textContent = 'Lessons';
      panel.appendChild(h2);
      Array.prototype.forEach.call(side.querySelectorAll('.sidebar-folder > ul'), function (ul) { panel.appendChild(ul.cloneNode(true)); });
    }
    var btn = document.createElement('button');
    btn.type = 'button'; btn.className = 'nav-toggle'; btn.textContent = '☰ Contents';
    btn.setAttribute('aria-controls', 'nav-panel'); btn.setAttribute('aria-expanded', 'false');
    function open(yes) {
      panel.hidden = !yes; btn.setAttribute('aria-expanded', String(yes)); document.body.classList.toggle('nav-open', yes);
      if (!yes || !toc) return;   // mark the section being read, as the contents list beside the text does
      var from = toc.querySelectorAll('a'), to = panel.querySelectorAll('.toc-list a'), cur = null;
      Array.prototype.forEach.call(from, function (a, i) {
        to[i].classList.toggle('current', a.classList.contains('current'));
        if (a.classList.contains('current')) cur = to[i];
      });
      if (cur) panel.scrollTop = cur.offsetTop - panel.clientHeight / 3;
    }
    btn.addEventListener('click', function () { open(panel.hidden); });
    panel.addEventListener('click', function (e) { if (e.target.closest('a')) open(false); });
    document.addEventListener('keydown', function (e) { if (e.key === 'Escape') open(false); });
    bar.insertBefore(btn, bar.querySelector('.search'));
    bar.appendChild(panel);

    var top = document.createElement('a');
    top.href = '#'; top.className = 'to-top'; top.textContent = '↑ Top'; top.setAttribute('aria-label', 'Back to the top of the page');
    top.addEventListener('click', function (e) { e.preventDefault(); window.scrollTo(0, 0); open(false); });
    document.body.appendChild(top);
    function shown() { top.classList.toggle('shown', window.scrollY > window.innerHeight); }
    window.addEventListener('scroll', shown, {passive: true});
    shown();
  }

  function zoomPlots() {   // a plot drawn wider than the column: click it to see it at full size (the output scrolls)
    Array.prototype.forEach.call(document.querySelectorAll('#content .output_area img'), function (img) {
      function mark() {   // a retina plot's `width` is its size on the page, half its pixels
        var w = +img.getAttribute('width') || img.naturalWidth;
        img.classList.toggle('zoomable', w > img.clientWidth + 1 || img.classList.contains('zoomed'));
      }
      if (img.complete) mark(); else img.addEventListener('load', mark);
      img.addEventListener('click', function () { if (img.classList.contains('zoomable')) img.classList.toggle('zoomed'); });
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    renderMath();
    setupSearch();
    foldToc();
    zoomPlots();
    copyButtons();
    scrollCues();
    phoneNav();
    followToc();
    showActiveLesson();
    if (document.fonts) document.fonts.ready.then(showActiveLesson);   // web fonts can move the entries down
    window.addEventListener('resize', showActiveLesson);
  });
})();
