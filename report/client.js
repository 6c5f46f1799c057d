// The report page's script (plain browser JavaScript, inlined into report.html by report/html.ts; no network).
// Layer grids and unit cards are built on demand from the embedded JSON; every piece of text is set with
// textContent / setAttribute (never innerHTML), and only data:image URIs are used as image sources.
//
// Unit keys: the `key` of each declared column in results/tuning.ts, category.ts, awa.ts, awc.ts (e.g. tp = theta_pref,
// ra = awa_reconstructed: verdicts are the stages' own columns, never recomputed here), plus im (map images {a AWA,
// t top eigenvectors[], b bottom eigenvectors[], e energy}) and ti (top images [index, response]); test/report/
// units.test.ts checks that every key used here is declared.
// Tested in test/report/units.test.ts.
(() => {
  'use strict';
  const SVGNS = 'http://www.w3.org/2000/svg';
  const PAGE = 96;
  const settings = JSON.parse(document.getElementById('report-settings').textContent);
  let imageList = null;
  const layerCache = new Map();
  const built = new Map();

  const images = () => (imageList ??= JSON.parse(document.getElementById('image-data').textContent));
  function layerData(i) {
    if (!layerCache.has(i)) {
      const node = document.getElementById('layer-data-' + i);
      layerCache.set(i, node ? JSON.parse(node.textContent) : null);
    }
    return layerCache.get(i);
  }

  /** An HTML element; props: class, text, on<event>, other attributes. */
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    setProps(e, props);
    for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : String(c));
    return e;
  }
  /** An SVG element. */
  function sv(tag, props, ...children) {
    const e = document.createElementNS(SVGNS, tag);
    setProps(e, props);
    for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : String(c));
    return e;
  }
  function setProps(e, props) {
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.setAttribute('class', v);
      else if (k === 'text') e.textContent = String(v);
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
  }
  const safeSrc = (uri) => (typeof uri === 'string' && /^data:image\/(png|jpeg);base64,[A-Za-z0-9+/=]+$/.test(uri) ? uri : null);
  const finite = (v) => typeof v === 'number' && Number.isFinite(v);
  const fmt = (v, d = 2) => (finite(v) ? v.toFixed(d) : '—');
  const deg = (v) => (finite(v) ? `${Math.round(v * 10) / 10}°` : '—');
  const cpp = (v) => (finite(v) && v > 0 ? (v >= 1 ? String(v) : `1/${+(1 / v).toPrecision(3)}`) + ' c/px' : '—');
  const yesNo = (v) => (v === 1 ? 'yes' : v === 0 ? 'no' : '—');

  // ---- lazy images: a src is set when its tile scrolls into view ----
  const io = 'IntersectionObserver' in window
    ? new IntersectionObserver((entries) => {
        for (const en of entries) {
          if (!en.isIntersecting) continue;
          const img = en.target;
          img.src = img.dataset.src;
          io.unobserve(img);
        }
      }, { rootMargin: '400px' })
    : null;
  function lazyImg(uri, alt, cls) {
    const src = safeSrc(uri);
    const img = el('img', { alt, class: cls, decoding: 'async' });
    if (!src) return img;
    if (io) {
      img.dataset.src = src;
      io.observe(img);
    } else img.src = src;
    return img;
  }

  /**
   * Orientation marks over a map: two short strokes on the line through the centre along the bars (θ + 90°,
   * y down), near the edge so the RF itself stays visible.
   */
  function marks(list) {
    const s = sv('svg', { class: 'ori-marks', viewBox: '0 0 1 1', 'aria-hidden': 'true' });
    for (const [theta, cls] of list) {
      if (!finite(theta)) continue;
      const t = (theta * Math.PI) / 180;
      const ux = -Math.sin(t);
      const uy = Math.cos(t);
      for (const sign of [-1, 1]) {
        s.append(sv('line', { x1: 0.5 + sign * 0.3 * ux, y1: 0.5 + sign * 0.3 * uy, x2: 0.5 + sign * 0.48 * ux, y2: 0.5 + sign * 0.48 * uy, class: cls }));
      }
    }
    return s;
  }

  /** One map box: image (or a dash when not drawn), optional marks and label. */
  function mapBox(uri, label, opts = {}) {
    const box = el('div', { class: 'map' + (opts.faded ? ' faded' : '') + (uri ? '' : ' none'), title: opts.title || label });
    if (uri) box.append(lazyImg(uri, label, 'px'));
    else box.append(el('span', { class: 'nomap', text: opts.missing || '—' }));
    if (uri && opts.marks) box.append(marks(opts.marks));
    if (opts.caption) return el('figure', { class: 'cmap' }, box, el('figcaption', { text: opts.caption }));
    if (opts.label) return el('div', { class: 'tmap' }, box, el('span', { class: 'lbl', text: opts.label }));
    return box;
  }

  function badges(u) {
    const b = el('span', { class: 'badges' });
    if (u.as === 1) b.append(el('span', { class: 'badge a', text: 'A', title: 'AWA significant' }));
    if (u.ns > 0) b.append(el('span', { class: 'badge c', text: 'C' + u.ns, title: `${u.ns} significant AWC eigenvalue(s)` }));
    if (u.ra === 1 || u.rc === 1) b.append(el('span', { class: 'badge r', text: 'R', title: `reconstructed by ${[u.ra === 1 ? 'AWA' : '', u.rc === 1 ? 'AWC' : ''].filter(Boolean).join(' and ')}` }));
    if (u.sel === 1) b.append(el('span', { class: 'badge k', text: 'S', title: 'category-selective' + (u.pc ? `: ${u.pc}` : '') }));
    return b;
  }

  function tile(L, li, u) {
    const maps = el('div', { class: 'maps' });
    if (L.has.awa) maps.append(mapBox(u.im.a, 'AWA', { label: 'AWA', marks: [[u.tp, 'pref'], [u.at, 'pred']], title: `AWA, max|z| ${fmt(u.z, 1)}` }));
    if (L.has.awc) {
      const t = u.im.t || [];
      for (const k of [0, 1]) maps.append(mapBox(t[k], `e${k + 1}`, { label: `e${k + 1}`, faded: !(u.es && u.es[k] === 1), title: `AWC eigenvector ${k + 1}, λ = ${fmt(u.ev && u.ev[k], 1)}${u.es && u.es[k] === 1 ? ' (significant)' : ' (not significant)'}` }));
      maps.append(mapBox(u.im.e, 'energy', { label: 'energy', marks: [[u.tp, 'pref'], [u.ct, 'pred']], missing: 'n.s.', title: u.im.e ? 'energy map of the significant eigenvectors' : 'no significant excitatory eigenvalue' }));
    }
    const facts = [];
    if (L.has.tuning) facts.push(u.r === 1 ? `θ ${deg(u.tp)} · f ${cpp(u.fp)}` : 'no grating response');
    if (L.has.category && u.pc) facts.push(u.pc);
    return el('a', { class: 'tile', href: `#unit-${li}-${u.c}`, 'data-ch': u.c },
      el('div', { class: 'th' }, el('span', { class: 'ch', text: `ch ${u.c}` }), badges(u)),
      maps.childNodes.length ? maps : null,
      el('div', { class: 'tf', text: facts.join(' · ') }));
  }

  const FILTERS = [
    ['all', 'all units', () => true],
    ['awa', 'AWA significant', (u) => u.as === 1],
    ['awc', 'AWC significant', (u) => u.ns > 0],
    ['rec', 'reconstructed (AWA or AWC)', (u) => u.ra === 1 || u.rc === 1],
    ['ns', 'no significant RF', (u) => u.as !== 1 && !(u.ns > 0)],
    ['sel', 'category-selective', (u) => u.sel === 1],
    ['resp', 'responsive to gratings', (u) => u.r === 1],
  ];
  const SORTS = [
    ['channel', 'channel', (u) => u.c, 1],
    ['z', 'AWA max|z| (high first)', (u) => (finite(u.z) ? u.z : -Infinity), -1],
    ['eig', 'λ₁ / null edge (high first)', (u) => (u.ev && finite(u.ev[0]) && finite(u.nu) && u.nu > 0 ? u.ev[0] / u.nu : -Infinity), -1],
    ['osi', 'OSI (high first)', (u) => (finite(u.osi) ? u.osi : -Infinity), -1],
    ['csi', 'category CSI (high first)', (u) => (finite(u.csi) ? u.csi : -Infinity), -1],
  ];

  function buildLayer(details) {
    const li = Number(details.dataset.layer);
    if (built.has(li)) return;
    const L = layerData(li);
    const body = details.querySelector('.layer-body');
    body.textContent = '';
    if (!L) return;
    const state = { filter: 'all', sort: 'channel', shown: PAGE };
    const grid = el('div', { class: 'grid' });
    const count = el('span', { class: 'count' });
    const more = el('button', { type: 'button', class: 'more' });
    const filterSel = el('select', { 'aria-label': 'filter units', class: 'filter' }, FILTERS.map(([v, t]) => el('option', { value: v, text: t })));
    const sortSel = el('select', { 'aria-label': 'sort units', class: 'sort' }, SORTS.map(([v, t]) => el('option', { value: v, text: t })));
    const render = () => {
      const f = FILTERS.find((x) => x[0] === state.filter)[2];
      const [, , key, dir] = SORTS.find((x) => x[0] === state.sort);
      const list = L.units.filter(f).sort((a, b) => dir * (key(a) - key(b)) || a.c - b.c);
      grid.textContent = '';
      for (const u of list.slice(0, state.shown)) grid.append(tile(L, li, u));
      count.textContent = `showing ${Math.min(state.shown, list.length)} of ${list.length} units (${L.units.length} in the layer)`;
      more.hidden = list.length <= state.shown;
      more.textContent = `show ${Math.min(PAGE, list.length - state.shown)} more`;
    };
    filterSel.addEventListener('change', () => ((state.filter = filterSel.value), (state.shown = PAGE), render()));
    sortSel.addEventListener('change', () => ((state.sort = sortSel.value), render()));
    more.addEventListener('click', () => ((state.shown += PAGE), render()));
    const marksBox = el('input', { type: 'checkbox', class: 'marks-toggle' });
    marksBox.checked = !document.body.classList.contains('no-marks');
    marksBox.addEventListener('change', () => {
      document.body.classList.toggle('no-marks', !marksBox.checked);
      for (const b of document.querySelectorAll('input.marks-toggle')) b.checked = marksBox.checked;
    });
    body.append(el('div', { class: 'controls' }, el('label', {}, 'Show ', filterSel), el('label', {}, 'Sort by ', sortSel), el('label', {}, marksBox, ' θ marks'), count), grid, more);
    built.set(li, render);
    render();
  }

  // ---- small SVG charts of the unit card ----
  function chart(o) {
    const longest = Math.min(22, Math.max(0, ...o.xTicks.map((t) => String(t[1]).length)));
    const W = o.width || 300, m = { l: o.xRotate ? Math.max(46, 3.4 * longest) : 46, r: 10, t: 24, b: o.xRotate ? 24 + 4.6 * longest : 34 }, H = (o.height || 170) + (o.xRotate ? m.b - 34 : 0);
    const iw = W - m.l - m.r, ih = H - m.t - m.b;
    const [x0, x1] = o.xDomain;
    let [y0, y1] = o.yDomain;
    if (!(y1 > y0)) y1 = y0 + 1;
    const X = (x) => m.l + ((x - x0) / (x1 - x0 || 1)) * iw;
    const Y = (y) => m.t + ih - ((y - y0) / (y1 - y0)) * ih;
    const s = sv('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': o.title });
    s.append(sv('text', { x: m.l, y: 12, class: 'ct', text: o.title }));
    s.append(sv('line', { x1: m.l, y1: m.t + ih, x2: m.l + iw, y2: m.t + ih, class: 'axis' }), sv('line', { x1: m.l, y1: m.t, x2: m.l, y2: m.t + ih, class: 'axis' }));
    for (const t of o.xTicks) {
      const name = String(t[1]);
      const lab = sv('text', { x: X(t[0]), y: m.t + ih + 13, class: 'tick', 'text-anchor': o.xRotate ? 'end' : 'middle', text: name.length > 22 ? name.slice(0, 21) + '…' : name });
      if (o.xRotate) lab.setAttribute('transform', `rotate(-45 ${X(t[0])} ${m.t + ih + 13})`);
      s.append(lab);
    }
    for (const v of [y0, (y0 + y1) / 2, y1]) s.append(sv('text', { x: m.l - 4, y: Y(v) + 3, class: 'tick', 'text-anchor': 'end', text: +v.toPrecision(3) }));
    if (o.xLabel) s.append(sv('text', { x: m.l + iw / 2, y: H - 3, class: 'al', 'text-anchor': 'middle', text: o.xLabel }));
    if (o.yLabel) s.append(sv('text', { x: 10, y: m.t + ih / 2, class: 'al', 'text-anchor': 'middle', transform: `rotate(-90 10 ${m.t + ih / 2})`, text: o.yLabel }));
    for (const h of o.hlines || []) if (finite(h.y) && h.y >= y0 && h.y <= y1) s.append(sv('line', { x1: m.l, x2: m.l + iw, y1: Y(h.y), y2: Y(h.y), class: h.cls }, sv('title', { text: h.label })));
    for (const v of o.vlines || []) if (finite(v.x) && v.x >= x0 && v.x <= x1) s.append(sv('line', { x1: X(v.x), x2: X(v.x), y1: m.t, y2: m.t + ih, class: v.cls }, sv('title', { text: v.label })));
    for (const b of o.bars || []) {
      if (!finite(b.y)) continue;
      const bw = (iw / o.bars.length) * 0.7;
      s.append(sv('rect', { x: X(b.x) - bw / 2, y: Y(Math.max(b.y, 0)), width: bw, height: Math.abs(Y(0) - Y(b.y)), class: b.cls }, sv('title', { text: b.label })));
    }
    for (const se of o.series || []) {
      const pts = se.xs.map((x, i) => [x, se.ys[i]]).filter(([x, y]) => finite(x) && finite(y));
      if (se.line && pts.length > 1) s.append(sv('polyline', { points: pts.map(([x, y]) => `${X(x)},${Y(y)}`).join(' '), class: 'curve' }));
      pts.forEach(([x, y], i) => s.append(sv('circle', { cx: X(x), cy: Y(y), r: 3, class: se.cls ? se.cls(i) : 'pt' }, sv('title', { text: se.label ? se.label(i) : `${x}: ${y}` }))));
    }
    return s;
  }
  const extent = (vals) => {
    const v = vals.filter(finite);
    return v.length ? [Math.min(...v), Math.max(...v)] : [0, 1];
  };
  const LEG = [['pref', 'θ_pref / f_pref (gratings)'], ['pred', 'AWA prediction'], ['pred2', 'AWC prediction']];

  function tuningCharts(L, u) {
    if (!L.has.tuning || !u.ori) return [];
    const th = [...L.theta, 180];
    const ori = [...u.ori, u.ori[0]];
    const [, ymax] = extent([...ori, ...u.sfc, 0]);
    const oriChart = chart({
      title: 'Orientation tuning at f_pref', xDomain: [0, 180], yDomain: [0, ymax], xLabel: 'θ (deg, wave-vector direction)', yLabel: 'response',
      xTicks: [0, 45, 90, 135, 180].map((t) => [t, t]),
      series: [{ xs: th, ys: ori, line: true, label: (i) => `θ ${th[i]}°: ${fmt(ori[i], 3)}` }],
      vlines: [{ x: u.tp, cls: 'pref', label: 'θ_pref' }, { x: u.at, cls: 'pred', label: 'θ_pred (AWA)' }, { x: u.ct, cls: 'pred2', label: 'θ_pred (AWC)' }],
    });
    const lx = L.sf.map((f) => Math.log2(f));
    const lg = (v) => (finite(v) && v > 0 ? Math.log2(v) : NaN);
    const sfChart = chart({
      title: 'SF tuning at θ_pref', xDomain: [Math.min(...lx) - 0.25, Math.max(...lx) + 0.25], yDomain: [0, ymax], xLabel: 'f (cycles/px, log scale)', yLabel: 'response',
      xTicks: L.sf.filter((_, i) => L.sf.length <= 8 || i % 2 === 0).map((f) => [Math.log2(f), f >= 1 ? String(f) : `1/${+(1 / f).toPrecision(3)}`]),
      series: [{ xs: lx, ys: u.sfc, line: true, label: (i) => `f ${cpp(L.sf[i])}: ${fmt(u.sfc[i], 3)}` }],
      vlines: [{ x: lg(u.fp), cls: 'pref', label: 'f_pref' }, { x: lg(u.af), cls: 'pred', label: 'f_pred (AWA)' }, { x: lg(u.cf), cls: 'pred2', label: 'f_pred (AWC)' }],
    });
    return [oriChart, sfChart];
  }

  function spectrumChart(u) {
    if (!u.ev) return null;
    const top = u.ev, bot = u.eb || [];
    const xs = [...top.map((_, i) => i + 1), ...bot.map((_, i) => top.length + 1.5 + i)];
    const ys = [...top, ...bot];
    const sig = [...(u.es || []), ...(u.bs || [])];
    const [lo, hi] = extent([...ys, u.nu, u.nl, 0]);
    const pad = (hi - lo) * 0.08 || 1;
    return chart({
      title: 'AWC eigenvalues vs null', xDomain: [0.5, xs.length ? xs[xs.length - 1] + 0.5 : 1.5], yDomain: [lo - pad, hi + pad], yLabel: 'λ (grey level²)',
      xTicks: [...top.map((_, i) => [i + 1, `λ${i + 1}`]), ...bot.map((_, i) => [top.length + 1.5 + i, i === bot.length - 1 ? 'λ_D' : `λ_D−${bot.length - 1 - i}`])],
      series: [{ xs, ys, cls: (i) => (sig[i] === 1 ? 'pt sig' : 'pt ns'), label: (i) => `${fmt(ys[i], 1)} ${sig[i] === 1 ? '(significant)' : '(not significant)'}` }],
      hlines: [{ y: u.nu, cls: 'null', label: `null upper bound ${fmt(u.nu, 1)}` }, { y: u.nl, cls: 'null', label: `null lower bound ${fmt(u.nl, 1)}` }, { y: 0, cls: 'zero', label: '0' }],
    });
  }

  function categoryChart(L, u) {
    if (!L.has.category || !u.mu || !u.mu.length) return null;
    const [, hi] = extent([...u.mu, 0]);
    return chart({
      title: 'Mean response per category', width: Math.max(300, 28 * L.categories.length + 60), xDomain: [-0.5, L.categories.length - 0.5], yDomain: [0, hi || 1], yLabel: 'mean response', xRotate: true,
      xTicks: L.categories.map((c, i) => [i, c]),
      bars: u.mu.map((y, i) => ({ x: i, y, cls: L.categories[i] === u.pc ? 'bar pref' : 'bar', label: `${L.categories[i]}: ${fmt(y, 3)}` })),
    });
  }

  function factTable(rows) {
    return el('table', { class: 'facts-t' }, el('tbody', {}, rows.filter(Boolean).map(([k, v]) => el('tr', {}, el('th', { scope: 'row', text: k }), el('td', { text: v })))));
  }

  function cardMaps(L, u) {
    const out = el('div', { class: 'card-maps' });
    if (L.has.awa) out.append(mapBox(u.im.a, 'AWA', { marks: [[u.tp, 'pref'], [u.at, 'pred']], caption: `AWA · max|z| ${fmt(u.z, 1)}${u.as === 1 ? ' ✓' : ' (n.s.)'}` }));
    if (L.has.awc) {
      (u.ev || []).forEach((lam, k) => {
        const sig = u.es && u.es[k] === 1;
        out.append(mapBox((u.im.t || [])[k], `e${k + 1}`, { faded: !sig, missing: 'n.s. (not drawn)', caption: `e${k + 1} · λ ${fmt(lam, 0)}${sig ? ' ✓' : ' n.s.'}` }));
      });
      (u.eb || []).forEach((lam, k) => {
        const sig = u.bs && u.bs[k] === 1;
        const name = k === (u.eb.length - 1) ? 'e_D' : `e_D−${u.eb.length - 1 - k}`;
        out.append(mapBox((u.im.b || [])[k], name, { faded: !sig, missing: 'n.s. (not drawn)', caption: `${name} · λ ${fmt(lam, 0)}${sig ? ' ✓ (suppr.)' : ' n.s.'}` }));
      });
      out.append(mapBox(u.im.e, 'energy', { marks: [[u.tp, 'pref'], [u.ct, 'pred']], missing: 'no significant λ', caption: 'energy Σλₖeₖ²' }));
    }
    return out;
  }

  function topImages(L, u) {
    const wrap = el('div', { class: 'tops' });
    if (!L.has.category) return null;
    if (!settings.imageDir) return el('p', { class: 'note', text: 'Natural images were not part of this run.' });
    const imgs = images();
    const missing = [];
    for (const [idx, resp] of u.ti || []) {
      const im = imgs[idx];
      if (!im) continue;
      if (!im.uri) missing.push(im.file);
      wrap.append(el('figure', { class: 'top' + (im.uri ? '' : ' missing') },
        im.uri ? el('img', { src: safeSrc(im.uri), alt: im.file, width: 64, height: 64 }) : el('div', { class: 'noimg', text: 'file missing' }),
        el('figcaption', {}, el('span', { class: 'cat', text: im.category }), el('span', { class: 'resp', text: fmt(resp, 2) }), el('span', { class: 'file', text: im.file }))));
    }
    const note = missing.length
      ? el('p', { class: 'warn', text: `${missing.length} of these images could not be read from ${settings.imageDir} (moved or deleted since the run): ${missing.join(', ')}` })
      : null;
    return [note, wrap];
  }

  function openCard(li, ch) {
    const L = layerData(li);
    const u = L && L.units.find((x) => x.c === ch);
    const back = document.getElementById('card');
    const body = back.querySelector('.card-body');
    body.textContent = '';
    if (!u) {
      body.append(el('p', { text: `No unit ${ch} in layer ${li}.` }));
      back.hidden = false;
      return;
    }
    const pos = L.units.indexOf(u);
    const prev = L.units[pos - 1], next = L.units[pos + 1];
    body.append(
      el('div', { class: 'card-head' },
        el('h2', { id: 'card-title' }, el('span', { text: L.name }), ' · ', el('span', { text: `channel ${u.c}` })),
        badges(u),
        el('span', { class: 'nav' },
          prev ? el('a', { href: `#unit-${li}-${prev.c}`, text: `← ch ${prev.c}` }) : null,
          next ? el('a', { href: `#unit-${li}-${next.c}`, text: `ch ${next.c} →` }) : null)),
      el('p', { class: 'legend-inline' }, LEG.map(([cls, t]) => el('span', {}, el('span', { class: 'mk ' + cls }), ' ' + t + ' '))),
      cardMaps(L, u),
      el('div', { class: 'card-cols' },
        L.has.tuning ? el('div', {}, el('h3', { text: 'Grating tuning' }), factTable([
          ['responsive', yesNo(u.r)], ['max response', fmt(u.mr, 3)], ['θ_pref', deg(u.tp)], ['f_pref', cpp(u.fp)],
          ['circular variance', fmt(u.cv)], ['OSI', fmt(u.osi)], ['half-width', deg(u.hw)], ['SF bandwidth', finite(u.bw) ? `${fmt(u.bw)} oct` : '—'], ['F1/F0', fmt(u.f10)],
        ])) : null,
        L.has.awa || L.has.awc ? el('div', {}, el('h3', { text: 'Receptive field' }), factTable([
          L.has.awa && ['AWA max|z|', `${fmt(u.z, 2)} (threshold ${settings.zThreshold})`],
          L.has.awa && ['active samples', fmt(u.na, 0)],
          L.has.awa && ['AWA θ_pred, f_pred', `${deg(u.at)}, ${cpp(u.af)}`],
          L.has.awa && ['AWA match θ / f', `${yesNo(u.amt)} / ${yesNo(u.amf)}`],
          L.has.awc && ['significant λ (exc. / supp.)', `${fmt(u.ns, 0)} / ${fmt(u.nb, 0)}`],
          L.has.awc && ['null range', `${fmt(u.nl, 1)} … ${fmt(u.nu, 1)}`],
          L.has.awc && ['AWC θ_pred, f_pred', `${deg(u.ct)}, ${cpp(u.cf)}`],
          L.has.awc && ['AWC match θ / f', `${yesNo(u.cmt)} / ${yesNo(u.cmf)}`],
          ['reconstructed', [u.ra === 1 ? 'by AWA' : '', u.rc === 1 ? 'by AWC' : ''].filter(Boolean).join(', ') || 'no'],
        ])) : null,
        L.has.category ? el('div', {}, el('h3', { text: 'Category selectivity' }), factTable([
          ['preferred', u.pc || '—'], ['CSI', fmt(u.csi)], ['sparseness', fmt(u.sp)], ['ANOVA q', finite(u.q) ? u.q.toPrecision(3) : '—'], ['selective', yesNo(u.sel)],
        ])) : null),
      el('div', { class: 'charts' }, tuningCharts(L, u), spectrumChart(u), categoryChart(L, u)),
      L.has.category ? el('section', { class: 'top-images' }, el('h3', { text: 'Top natural images' }), topImages(L, u)) : null,
    );
    back.hidden = false;
    back.dataset.layer = String(li);
    back.querySelector('.close').focus({ preventScroll: true });
  }

  function closeCard() {
    const back = document.getElementById('card');
    if (back.hidden) return;
    back.hidden = true;
    const li = back.dataset.layer;
    history.replaceState(null, '', li !== undefined ? `#layer-${li}` : '#atlas');
  }

  function route() {
    const h = decodeURIComponent(location.hash.slice(1));
    let m = /^unit-(\d+)-(\d+)$/.exec(h);
    if (m) {
      const li = Number(m[1]);
      const d = document.getElementById(`layer-${li}`);
      if (d && !d.open) d.open = true;
      openCard(li, Number(m[2]));
      return;
    }
    document.getElementById('card').hidden = true;
    m = /^layer-(\d+)$/.exec(h);
    if (m) {
      const d = document.getElementById(h);
      if (d) d.open = true;
    }
  }

  // ---- V1 section: the chosen layer's property histograms over the V1 data ----
  function v1Histograms() {
    const node = document.getElementById('v1-data');
    const data = node ? JSON.parse(node.textContent) : null;
    const select = document.getElementById('v1-layer');
    const box = document.getElementById('v1-hists');
    if (!data || !select || !box || !data.properties.length) return;
    const labelsNode = document.getElementById('layer-labels');
    const labels = labelsNode ? JSON.parse(labelsNode.textContent) : {};
    // long layer names shortened in the list; the full name on hover and in the figure captions
    for (const [i, L] of data.layers.entries()) select.append(el('option', { value: String(i), text: labels[L.name] || L.name, title: L.name }));
    const frac = (counts) => {
      const n = counts.reduce((a, b) => a + b, 0);
      return counts.map((c) => (n > 0 ? c / n : NaN));
    };
    const label = (e) => (Math.abs(e) >= 10 ? String(Math.round(e)) : String(+e.toPrecision(2)));
    const render = () => {
      const L = data.layers[Number(select.value)];
      box.textContent = '';
      if (!L) return;
      for (const p of data.properties) {
        const ref = frac(p.reference);
        const mine = frac(L.counts[p.name] || []);
        const n = (L.counts[p.name] || []).reduce((a, b) => a + b, 0);
        const [, hi] = extent([...ref, ...mine, 0]);
        const bins = p.reference.length;
        const step = Math.max(1, Math.ceil(bins / 7));
        const c = chart({
          title: `${p.name}${p.scored ? '' : ' (not scored)'}`, xDomain: [-0.5, bins - 0.5], yDomain: [0, hi || 1], yLabel: 'fraction',
          xTicks: p.edges.slice(0, bins).map((e, i) => [i, label(e)]).filter((_, i) => i % step === 0),
          bars: ref.map((y, i) => ({ x: i, y, cls: 'bar ref', label: `V1: ${p.reference[i]} of ${p.referenceN} in [${label(p.edges[i])}, ${label(p.edges[i + 1])})` })),
          series: [{ xs: mine.map((_, i) => i), ys: mine, line: true, cls: () => 'pt model', label: (i) => `${L.name}: ${(L.counts[p.name] || [])[i]} of ${n} units` }],
        });
        c.setAttribute('data-property', p.name);
        box.append(el('figure', { class: 'v1-hist', title: `${p.meaning} — layer n = ${n}, V1 n = ${p.referenceN}` }, c, el('figcaption', { text: `${L.name}: n = ${n} · V1: n = ${p.referenceN}` })));
      }
    };
    select.addEventListener('change', render);
    render();
  }
  v1Histograms();

  for (const d of document.querySelectorAll('details.layer')) {
    d.addEventListener('toggle', () => d.open && buildLayer(d));
    if (d.open) buildLayer(d);
  }
  const back = document.getElementById('card');
  back.querySelector('.close').addEventListener('click', closeCard);
  back.addEventListener('click', (e) => e.target === back && closeCard());
  document.addEventListener('keydown', (e) => e.key === 'Escape' && closeCard());
  window.addEventListener('hashchange', route);
  route();
})();
