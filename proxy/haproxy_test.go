package proxy

import (
	"reflect"
	"strings"
	"testing"
)

// haproxyCSV is HAProxy 2.6's stats CSV (Debian's 2.6.12) for the config the
// runner generates: two servers with addresses, one server-template slot that no
// replica fills (no address, MAINT), the FRONTEND and BACKEND rows; the columns
// after addr are cut.
const haproxyCSV = `# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo
balancer,FRONTEND,,,1,1,4096,9,714,3748,0,0,0,,,,,OPEN,,,,,,,,,1,1,0,,,,0,9,0,9,,,,0,7,0,0,1,0,,9,9,9,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,http,
replicas,app1,0,0,2,3,,21,324,3400,,0,,1,0,0,0,UP,1,1,0,0,0,3,0,,1,2,1,,21,,2,4,,4,L7OK,200,0,0,19,0,0,1,0,,,,20,0,0,,,,,0,,,0,0,1,1,,,,Layer7 check passed,,1,2,2,,,,172.18.0.3:8000,,http,
replicas,app2,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,1,0,1,1,3,3,,1,2,2,,0,,2,0,,0,L4CON,,0,0,0,0,0,0,0,,,,0,0,0,,,,,-1,Connection refused,,0,0,0,0,,,,Layer4 connection problem,,1,2,0,,,,172.18.0.4:8000,,http,
replicas,app3,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT (resolution),1,1,0,0,0,3,0,,1,2,3,,0,,2,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,,,,,-1,,,0,0,0,0,,,,,,1,2,0,,,,,,http,
replicas,BACKEND,0,0,0,1,410,21,324,3400,0,0,,1,0,0,0,UP,1,1,0,,0,3,0,,1,2,0,,21,,1,4,,4,,,,0,19,0,0,1,0,,,,20,0,0,0,0,0,0,0,,,0,0,1,1,,,,,,,,,,,,,,http,leastconn
`

func TestParseHAProxyCSV(t *testing.T) {
	got, err := ParseHAProxyCSV(strings.NewReader(haproxyCSV), "replicas")
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{Policy: "least_conn", Upstreams: []UpstreamStats{
		{Address: "172.18.0.3:8000", State: StateUp, Requests: 20, Errors: 2, InFlight: 2},
		{Address: "172.18.0.4:8000", State: StateDown, Failures: 1},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseHAProxyCSVErrors(t *testing.T) {
	for _, c := range []struct{ name, csv, want string }{
		{"empty", "", "cannot read"},
		{"no header", "replicas,app1\n", "does not start with"},
		{"no addr", "# pxname,svname,status,stot\nreplicas,app1,UP,1\n", "no addr column"},
		{"no backend", haproxyCSV, `no backend "app"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseHAProxyCSV(strings.NewReader(c.csv), map[bool]string{true: "app", false: "replicas"}[c.name == "no backend"])
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error with %q", err, c.want)
			}
		})
	}
}
