// Package chart draws line charts as standalone SVG for report.html and the live
// dashboard, with no dependency beyond the standard library.
//
// The SVG is meant to be inlined into an HTML page and read without JavaScript:
// every data point carries a <title> (the browser shows it on hover) and the
// legend names every series. A page's own script can toggle a series by the
// data-series attribute shared by its legend entry and its <g> element (see
// Script), which is the only interactivity the charts need.
package chart
