package server

const childEnv = "CGOGUARD_HUB_TEST_CHILD"

func serveChild() int { return 0 }
