package chaos_test

import (
	"errors"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/chaos"
)

func TestParse(t *testing.T) {
	tests := []struct {
		spec string
		want []chaos.Failpoint
		text string // canonical form; "" means spec itself
	}{
		{"", nil, ""},
		{"zlib=segv", []chaos.Failpoint{{Module: "zlib", Terms: []chaos.Term{{Action: chaos.Action{Kind: chaos.Segv}}}}}, ""},
		{"zlib.inflate=10%segv;zlib=delay(200ms)", []chaos.Failpoint{
			{Module: "zlib", Function: "inflate", Terms: []chaos.Term{{Percent: 10, Action: chaos.Action{Kind: chaos.Segv}}}},
			{Module: "zlib", Terms: []chaos.Term{{Action: chaos.Action{Kind: chaos.Delay, Delay: 200 * time.Millisecond}}}},
		}, ""},
		{" zlib = 2*errno(EIO) -> off ; ", []chaos.Failpoint{
			{Module: "zlib", Terms: []chaos.Term{{Count: 2, Action: chaos.Action{Kind: chaos.Errno, Errno: syscall.EIO}}, {Action: chaos.Action{Kind: chaos.Off}}}},
		}, "zlib=2*errno(EIO)->off"},
		{"m=%10bus", []chaos.Failpoint{{Module: "m", Terms: []chaos.Term{{Every: 10, Action: chaos.Action{Kind: chaos.Bus}}}}}, ""},
		{"m=3*0.5%fpe->abort", []chaos.Failpoint{{Module: "m", Terms: []chaos.Term{
			{Count: 3, Percent: 0.5, Action: chaos.Action{Kind: chaos.FPE}}, {Action: chaos.Action{Kind: chaos.Abort}}}}}, ""},
		{"m=2*%3hang", []chaos.Failpoint{{Module: "m", Terms: []chaos.Term{{Count: 2, Every: 3, Action: chaos.Action{Kind: chaos.Hang}}}}}, ""},
		{`m=error(7, bad header)`, []chaos.Failpoint{{Module: "m", Terms: []chaos.Term{
			{Action: chaos.Action{Kind: chaos.Error, Code: 7, Message: "bad header"}}}}}, `m=error(7,"bad header")`},
		{`m=error(-3,"a;b),c",enoent)`, []chaos.Failpoint{{Module: "m", Terms: []chaos.Term{
			{Action: chaos.Action{Kind: chaos.Error, Code: -3, Message: "a;b),c", Errno: syscall.ENOENT}}}}}, `m=error(-3,"a;b),c",ENOENT)`},
		{"m=errno(5)", []chaos.Failpoint{{Module: "m", Terms: []chaos.Term{{Action: chaos.Action{Kind: chaos.Errno, Errno: syscall.EIO}}}}}, "m=errno(EIO)"},
		{`"my.mod"."f n"=SEGV`, []chaos.Failpoint{{Module: "my.mod", Function: "f n", Terms: []chaos.Term{{Action: chaos.Action{Kind: chaos.Segv}}}}}, `"my.mod"."f n"=segv`},
		{"a/b-c@1:x.fn_2=100%off", []chaos.Failpoint{{Module: "a/b-c@1:x", Function: "fn_2", Terms: []chaos.Term{{Percent: 100, Action: chaos.Action{Kind: chaos.Off}}}}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := chaos.Parse(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse(%q) =\n%+v\nwant\n%+v", tt.spec, got, tt.want)
			}
			want := tt.text
			if want == "" {
				want = tt.spec
			}
			if s := chaos.FormatSpec(got); s != want {
				t.Fatalf("FormatSpec = %q, want %q", s, want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		spec string
		pos  int
		msg  string
	}{
		{"zlib", 4, "want '=' after the target zlib"},
		{"=segv", 0, "want a module name"},
		{"zlib=", 5, "want an action"},
		{"zlib=explode", 5, `unknown action "explode"`},
		{"zlib=delay", 10, "delay needs arguments"},
		{"zlib=delay(fast)", 11, "want a positive duration"},
		{"zlib=delay(-1s)", 11, "want a positive duration"},
		{"zlib=delay(1s", 13, "want ')' to close delay("},
		{"zlib=errno(EWHAT)", 11, `unknown errno name "EWHAT"`},
		{"zlib=errno(0)", 11, "outside 1..4095"},
		{"zlib=error(x,y)", 11, "the code must be an integer"},
		{"zlib=error(1)", 12, "needs a message"},
		{`zlib=error(1,"open)`, 13, "unterminated quoted message"},
		{"zlib=0*segv", 5, "count \"0\" must be a whole number from 1"},
		{"zlib=0%segv", 5, "must be above 0"},
		{"zlib=101%segv", 5, "at most 100"},
		{"zlib=%0segv", 6, "every-Nth"},
		{"zlib=%segv", 6, "want a number after '%'"},
		{"zlib=5segv", 6, "want '*' (a count) or '%' (a probability)"},
		{"zlib=segv zlib=bus", 10, "want ';' between failpoints"},
		{"zlib=segv;zlib=bus", 10, "target zlib appears twice"},
		{"zlib=segv->", 11, "want an action"},
		{`"zlib=segv`, 0, "unterminated quoted module"},
		{"zlib.=segv", 5, "want a function name"},
		{"a->b=segv", 2, "want '=' after the target a-"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			_, err := chaos.Parse(tt.spec)
			var se *chaos.SpecError
			if !errors.As(err, &se) || !errors.Is(err, chaos.ErrSpec) {
				t.Fatalf("err %v, want a *SpecError", err)
			}
			if se.Pos != tt.pos || !strings.Contains(se.Msg, tt.msg) {
				t.Fatalf("error at %d %q, want at %d containing %q", se.Pos, se.Msg, tt.pos, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "cgoguard: failpoint spec ") {
				t.Fatalf("message %q", err)
			}
		})
	}
}

func TestParseTarget(t *testing.T) {
	for _, tt := range []struct{ in, m, f string }{{"zlib", "zlib", ""}, {" zlib.inflate ", "zlib", "inflate"}, {`"a.b".c`, "a.b", "c"}} {
		m, f, err := chaos.ParseTarget(tt.in)
		if err != nil || m != tt.m || f != tt.f {
			t.Errorf("ParseTarget(%q) = %q, %q, %v", tt.in, m, f, err)
		}
	}
	if _, _, err := chaos.ParseTarget("zlib=segv"); err == nil {
		t.Error("ParseTarget accepted a whole entry")
	}
}

// FuzzParse checks that the parser never panics, and that whatever it
// accepts it writes back in a form it reads to the same failpoints.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"zlib.inflate=10%segv;zlib=delay(200ms)", "zlib=2*errno(EIO)->off", "m=%10bus", "m=3*0.5%fpe->abort",
		`m=error(-3,"a;b),c",ENOENT)`, `"my.mod"."f n"=hang`, "m=error(7, bad)", "", ";", "a=b", "m=delay(1h2m3.5s)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		fps, err := chaos.Parse(spec)
		if err != nil {
			if !errors.Is(err, chaos.ErrSpec) {
				t.Fatalf("Parse(%q): error %v is not an ErrSpec", spec, err)
			}
			return
		}
		text := chaos.FormatSpec(fps)
		again, err := chaos.Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its form %q fails: %v", spec, text, err)
		}
		if !reflect.DeepEqual(fps, again) {
			t.Fatalf("round trip of %q through %q:\n%+v\n%+v", spec, text, fps, again)
		}
		for _, fp := range fps {
			if fp.Module == "" || len(fp.Terms) == 0 {
				t.Fatalf("Parse(%q) gave an empty failpoint %+v", spec, fp)
			}
		}
	})
}
