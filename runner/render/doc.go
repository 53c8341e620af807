// Package render turns an expanded scenario into a compose file: it fills a
// text/template (the embedded compose-templates/default.yml.tmpl, or the scenario's
// own service.template) with the scenario's image, replicas, limits, published host
// port range, labels and network, and it finds a free host port range on this host.
//
// Every value from the scenario file reaches the template through the quote
// function, which writes a double-quoted YAML string with '$' doubled, so scenario
// values cannot inject YAML keys or compose variable interpolation.
package render
