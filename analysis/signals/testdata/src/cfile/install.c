#include <signal.h>
#include <stddef.h>

static void on_fpe(int sig) { (void)sig; }

void install(void) {
	struct sigaction sa;
	sa.sa_handler = on_fpe;
	sa.sa_flags = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGFPE, &sa, NULL); // want "CG032: sigaction\\(SIGFPE, ...\\) installs a handler without SA_ONSTACK" "CG032: sigaction\\(SIGFPE, ...\\) replaces Go's handler"
}
