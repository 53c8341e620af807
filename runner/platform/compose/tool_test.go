package compose

import "testing"

func TestErrorLines(t *testing.T) {
	out := " Container p-app-1  Creating\n Container p-app-1  Started\nError response from daemon: all ports are allocated\n"
	if got := errorLines(out); got != "Error response from daemon: all ports are allocated" {
		t.Errorf("errorLines = %q", got)
	}
	if got := errorLines("one\nlast words\n"); got != "last words" {
		t.Errorf("errorLines without an error line = %q", got)
	}
}

// v1Crash is how docker-compose 1.29 ends when the daemon's socket is gone.
const v1Crash = `Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/urllib3/connectionpool.py", line 705, in urlopen
    httplib_response = self._make_request(
FileNotFoundError: [Errno 2] No such file or directory

During handling of the above exception, another exception occurred:

    raise ConnectionError(err, request=request)
requests.exceptions.ConnectionError: ('Connection aborted.', FileNotFoundError(2, 'No such file or directory'))
docker.errors.DockerException: Error while fetching server API version: ('Connection aborted.', FileNotFoundError(2, 'No such file or directory'))
`

func TestErrorLinesOfATraceback(t *testing.T) {
	want := "docker.errors.DockerException: Error while fetching server API version: ('Connection aborted.', FileNotFoundError(2, 'No such file or directory'))"
	if got := errorLines(v1Crash); got != want {
		t.Errorf("errorLines = %q, want the traceback's last line", got)
	}
}

func TestNoDaemon(t *testing.T) {
	tests := []struct {
		out  string
		want bool
	}{
		{v1Crash, true},
		{"Cannot connect to the Docker daemon at unix:///tmp/x.sock. Is the docker daemon running?", true},
		{"Couldn't connect to Docker daemon at http+docker://localhost - is it running?", true},
		{"error during connect: Get \"http://%2Fx.sock/v1.41/containers/json\": dial unix /x.sock: connect: connection refused", true},
		{"Error response from daemon: all ports are allocated", false},
		{"service \"app\" refers to undefined network shared: invalid compose project", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := noDaemon(tt.out); got != tt.want {
			t.Errorf("noDaemon(%q) = %v, want %v", tt.out, got, tt.want)
		}
	}
}
