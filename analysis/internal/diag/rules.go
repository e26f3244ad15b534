package diag

import (
	"sort"
	"strings"
)

// Severity is a rule's default level, spelled as in SARIF.
type Severity string

// Severities, from most to least serious.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Note    Severity = "note"
)

// Rule is the metadata of one rule.
type Rule struct {
	// ID is the stable identifier, "CG013".
	ID string
	// Name is a short kebab-case name, "cstring-not-freed".
	Name string
	// Summary is one sentence saying what the rule finds.
	Summary string
	// Severity is the default level of its findings.
	Severity Severity
	// Theme is the analyzer (package) that implements the rule:
	// "pointers", "handles", "memory", ... Empty for rules not implemented.
	Theme string
	// Advisory marks rules whose findings are advice about cost or
	// style risk (a C call in a hot loop or under a mutex, a C string
	// converted from bytes that may hold NUL) rather than bugs or
	// hazards. Drivers leave them out of the default output; naming the
	// rule explicitly, or asking for advisory rules, turns them on.
	Advisory bool
}

// BaseURL is where the rule pages (docs/rules/CGxxx.md) are published.
const BaseURL = "https://github.com/cgoguard/cgoguard/blob/main/docs/rules/"

// URL returns the documentation page of the rule.
func (r Rule) URL() string { return BaseURL + r.ID + ".md" }

// SuppressionRule is the ID under which problems with suppression
// directives are reported: a //cgoguard:ignore without a reason, naming an
// unknown rule, or suppressing nothing.
const SuppressionRule = "CG000"

var rules = []Rule{
	{SuppressionRule, "suppression", "A //cgoguard:ignore directive lacks a reason, names an unknown rule or suppresses nothing.", Warning, "suite", false},

	{"CG001", "go-pointer-in-value", "A Go value that contains Go pointers is passed to C.", Error, "pointers", false},
	{"CG002", "slice-first-element", "&s[0] is passed to C where s may be empty or its elements hold Go pointers.", Warning, "pointers", false},
	{"CG003", "c-retains-go-pointer", "C keeps a Go pointer past the call without a runtime.Pinner.", Error, "pointers", false},
	{"CG004", "go-pointer-in-c-memory", "A Go pointer is stored into C memory.", Error, "pointers", false},
	{"CG005", "pinner-misuse", "runtime.Pinner.Pin without Unpin, or pinning what cannot be pinned.", Warning, "pointers", false},
	{"CG006", "export-returns-go-pointer", "An //export function returns a Go pointer, string or slice.", Error, "pointers", false},
	{"CG007", "export-stores-go-pointer", "An //export callback stores an unpinned Go pointer through a C pointer.", Error, "pointers", false},
	{"CG008", "uintptr-laundering", "A Go pointer is laundered through uintptr on its way to C.", Warning, "pointers", false},

	{"CG009", "handle-as-pointer", "A cgo.Handle is converted straight to unsafe.Pointer.", Error, "handles", false},
	{"CG010", "handle-address-kept", "The address of a local cgo.Handle is given to C that keeps it.", Error, "handles", false},
	{"CG024", "handle-not-deleted", "cgo.NewHandle without Delete on some path, or a new handle per loop iteration.", Warning, "handles", false},

	{"CG011", "noescape-misuse", "#cgo noescape or nocallback on a function that keeps pointers or calls back into Go.", Warning, "advisory", false},
	{"CG028", "cgo-call-in-hot-loop", "A cgo call inside a hot loop; batch the work in C.", Note, "advisory", true},

	{"CG032", "signal-handler-unsafe", "The C preamble installs a signal handler without SA_ONSTACK, or takes SIGSEGV/SIGBUS/SIGFPE without chaining to Go's handler.", Error, "signals", false},

	{"CG012", "malloc-uninitialised", "Uninitialised C.malloc memory is handed to Go code that stores pointers into it; use C.calloc.", Warning, "memory", false},
	{"CG013", "cstring-not-freed", "C.CString or C.CBytes result is not freed on every path.", Warning, "memory", false},
	{"CG014", "malloc-not-freed", "C.malloc/C.calloc memory is not freed, or freed by the wrong allocator.", Warning, "memory", false},
	{"CG015", "defer-free-in-loop", "defer C.free inside a loop holds every allocation until the function returns.", Warning, "memory", false},
	{"CG016", "use-after-free", "C memory is used after it was freed.", Error, "memory", false},
	{"CG017", "double-free", "C memory is freed twice (explicit plus deferred, Close plus finalizer).", Error, "memory", false},
	{"CG018", "unsafe-view-outlives-free", "unsafe.Slice/unsafe.String over C memory outlives its free.", Error, "memory", false},

	{"CG019", "gostring-unterminated", "C.GoString on a fixed [N]C.char or a buffer that may be unterminated.", Warning, "cstrings", false},
	{"CG020", "cstring-embedded-nul", "C.CString of a string that may hold NUL bytes.", Note, "cstrings", true},

	{"CG021", "finalizer-not-idempotent", "A finalizer or cleanup frees C memory without a guard against Close having freed it.", Error, "lifetimes", false},
	{"CG022", "finalized-field-no-keepalive", "A field of a finalized object is passed to C with no runtime.KeepAlive.", Warning, "lifetimes", false},
	{"CG023", "child-without-parent", "A child wrapper does not keep alive the parent whose finalizer frees shared C memory.", Warning, "lifetimes", false},

	{"CG026", "lockosthread-unpaired", "runtime.LockOSThread without UnlockOSThread.", Warning, "threads", false},
	{"CG027", "c-call-under-mutex", "A C call is made while holding a sync.Mutex.", Note, "threads", true},
	{"CG029", "unbounded-blocking-calls", "Goroutines started without bound make blocking C calls.", Warning, "threads", false},

	{"CG030", "errno-misuse", "The errno form r, err := C.f() is misused.", Warning, "cerrors", false},
	{"CG031", "c-status-ignored", "The status returned by a C function is ignored.", Warning, "cerrors", false},
}

var byID = func() map[string]Rule {
	m := make(map[string]Rule, len(rules))
	for _, r := range rules {
		m[r.ID] = r
	}
	return m
}()

// Rules returns the metadata of every rule, CG000 first, ordered by ID.
// The slice is a copy.
func Rules() []Rule {
	out := append([]Rule(nil), rules...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Lookup returns the rule with the given ID (case-insensitive).
func Lookup(id string) (Rule, bool) {
	r, ok := byID[strings.ToUpper(id)]
	return r, ok
}

// DefaultRules returns the rules a driver checks when none are named:
// every rule that is not Advisory, CG000 included, ordered by ID.
func DefaultRules() []Rule {
	var out []Rule
	for _, r := range Rules() {
		if !r.Advisory {
			out = append(out, r)
		}
	}
	return out
}

// IsAdvisory reports whether the rule ID (case-insensitive) names an
// advisory rule.
func IsAdvisory(id string) bool {
	r, ok := Lookup(id)
	return ok && r.Advisory
}

// Theme returns the rules implemented by the analyzer of the given theme,
// ordered by ID.
func Theme(theme string) []Rule {
	var out []Rule
	for _, r := range Rules() {
		if r.Theme == theme {
			out = append(out, r)
		}
	}
	return out
}
