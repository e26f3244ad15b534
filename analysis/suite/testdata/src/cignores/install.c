#include <signal.h>
#include <stddef.h>

static void on_usr(int sig) { (void)sig; }

void install(void) {
	// cgoguard:ignore CG032 the process never runs Go code on the thread that gets SIGUSR1
	signal(SIGUSR1, on_usr);
	// cgoguard:ignore CG032 stale // want "CG000: //cgoguard:ignore CG032 suppresses no finding"
	signal(SIGUSR2, SIG_IGN);
}
