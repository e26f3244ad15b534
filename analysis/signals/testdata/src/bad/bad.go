package bad

// #include <signal.h>
// #include <stddef.h>
//
// static void on_sig(int sig) { (void)sig; }
//
// static void install_plain(void) {
// 	signal(SIGUSR1, on_sig); // want `CG032: signal\(SIGUSR1, on_sig\) installs a handler without SA_ONSTACK`
// }
//
// static void install_noonstack(void) {
// 	struct sigaction sa;
// 	sa.sa_handler = on_sig;
// 	sa.sa_flags = SA_RESTART;
// 	sigemptyset(&sa.sa_mask);
// 	sigaction(SIGUSR2, &sa, NULL); // want `CG032: sigaction\(SIGUSR2, ...\) installs a handler without SA_ONSTACK`
// }
//
// static void take_segv(void) {
// 	struct sigaction sa;
// 	sa.sa_handler = on_sig;
// 	sa.sa_flags = SA_ONSTACK;
// 	sigemptyset(&sa.sa_mask);
// 	sigaction(SIGSEGV, &sa, NULL); // want `CG032: sigaction\(SIGSEGV, ...\) replaces Go's handler without saving it`
// }
//
// static struct sigaction old_bus;
// static void take_bus(void) {
// 	struct sigaction sa;
// 	sa.sa_handler = on_sig;
// 	sa.sa_flags = SA_ONSTACK;
// 	sigemptyset(&sa.sa_mask);
// 	sigaction(SIGBUS, &sa, &old_bus); // want `CG032: sigaction\(SIGBUS, ...\) saves Go's handler but never calls it`
// }
import "C"

func Install() {
	C.install_plain()
	C.install_noonstack()
	C.take_segv()
	C.take_bus()
}
