package cgoguard

// Slot returns the index of the module's counter block in the C trampoline:
// the slot that the module's guarded calls pass to cg_call_fast (as the
// high bits of its third argument, slotmode >> 8) and to cg_call (its third
// argument). It is -1 when the module has no block (more than 256 modules
// were open at once when it was created). A slot is fixed for the module's
// life and may be reused by a later module after Close.
//
// Tools that watch the trampoline from outside the process use it to tell
// whose call they see: observe publishes it in the status file and
// cgoguard probe maps the slot of each guarded call to the module's name.
func (m *Module) Slot() int { return int(m.slot) }
