#ifndef CGOGUARD_OBSFIXTURE_H
#define CGOGUARD_OBSFIXTURE_H
int ofx_register(const char *module);
int ofx_unregister(const char *module);
int ofx_register_flood(const char *module);
int ofx_unregister_flood(const char *module);
void ofx_set_depth(int depth);
int ofx_register_bad(const char *module);
int ofx_status_nmodules(void *arg);
#endif
