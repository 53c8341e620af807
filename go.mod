module github.com/infergrid/runner

go 1.26.8
