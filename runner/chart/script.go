package chart

// Script is the JavaScript that makes the charts of a page interactive: a click
// on a legend entry hides or shows its series, and hovering a point shows its
// value in a tooltip that follows the pointer. It keeps hidden series hidden when
// a chart is replaced (the dashboard swaps charts every second): call
// window.chartRestore(element) after replacing an element's charts. Pages embed
// it inline in a <script> element; without it the charts are still complete.
const Script = `(function(){
var hidden = {};
function key(svg, s){ return (svg.getAttribute('data-chart') || '') + '/' + s; }
function apply(svg){
  svg.querySelectorAll('[data-series]').forEach(function(g){
    var off = !!hidden[key(svg, g.getAttribute('data-series'))];
    g.classList.toggle('off', off);
  });
}
document.addEventListener('click', function(e){
  var g = e.target.closest && e.target.closest('svg.chart g.legend');
  if (!g) return;
  var svg = g.ownerSVGElement || g.closest('svg');
  var k = key(svg, g.getAttribute('data-series'));
  hidden[k] = !hidden[k];
  apply(svg);
});
var tip = document.createElement('div');
tip.className = 'chart-tip';
tip.hidden = true;
document.addEventListener('DOMContentLoaded', function(){ document.body.appendChild(tip); });
document.addEventListener('mouseover', function(e){
  var c = e.target.closest && e.target.closest('svg.chart circle');
  if (!c) { tip.hidden = true; return; }
  var t = c.querySelector('title');
  tip.textContent = t ? t.textContent : '';
  tip.hidden = false;
});
document.addEventListener('mousemove', function(e){
  if (!tip.hidden) { tip.style.left = (e.pageX + 12) + 'px'; tip.style.top = (e.pageY + 12) + 'px'; }
});
window.chartRestore = function(el){ el.querySelectorAll('svg.chart').forEach(apply); };
})();
`

// Style is the CSS the charts need: hidden series, dimmed legend entries and the
// hover tooltip.
const Style = `svg.chart{width:100%;max-width:760px;height:auto;display:block;margin:.5em 0}
svg.chart g.series.off{display:none}
svg.chart g.legend.off{opacity:.35}
svg.chart circle:hover{stroke:#000;stroke-width:1.5}
.chart-tip{position:absolute;background:#fff;border:1px solid #888;padding:2px 6px;font:12px sans-serif;pointer-events:none;white-space:nowrap}
`
