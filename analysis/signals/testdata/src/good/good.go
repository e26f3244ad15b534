package good

/*
#include <signal.h>
#include <stddef.h>
#include <string.h>

static struct sigaction saved_segv;

static void on_segv(int sig, siginfo_t *info, void *ctx) {
	// Not ours: hand it to the Go runtime.
	saved_segv.sa_sigaction(sig, info, ctx);
}

static int install(void) {
	struct sigaction sa, cur;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_ONSTACK | SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, NULL, &cur); // a query
	signal(SIGPIPE, SIG_IGN);
	// sigaction(SIGSEGV, &sa, NULL) in a comment is not code
	return sigaction(SIGSEGV, &sa, &saved_segv);
}

static void on_usr(int sig) { (void)sig; }

// A wrapper that installs whatever flags its caller chose.
static int install_as(int sig, void (*h)(int), unsigned long flags) {
	struct sigaction act;
	memset(&act, 0, sizeof act);
	act.sa_handler = h;
	act.sa_flags = (int)(flags & ~(unsigned long)SA_RESETHAND);
	return sigaction(sig, &act, NULL);
}

// cgoguard:ignore CG032 test process only, never linked into Go threads that get SIGUSR1
static void legacy(void) { signal(SIGUSR1, on_usr); }
*/
import "C"

func Install() {
	C.install()
	C.legacy()
	C.install_as(C.SIGUSR2, nil, C.SA_ONSTACK)
}
