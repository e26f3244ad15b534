package cfile

// void install(void);
import "C"

func Install() { C.install() }
