package observe

import (
	"encoding/binary"

	"github.com/cgoguard/cgoguard"
)

// The status file's module record carries the module's trampoline slot
// (cgoguard.Module.Slot) in the word after the state, as slot+1, so that a
// file written before the field existed (zero there) reads as "unknown".
// Tools that see guarded calls from outside the process (cgoguard probe,
// with uprobes on the trampoline) map a call's slot to its module with it.
const offModuleSlot = 68

// putModuleSlot writes m's slot into the module record r.
func putModuleSlot(r []byte, m *cgoguard.Module) {
	binary.LittleEndian.PutUint32(r[offModuleSlot:], uint32(m.Slot()+1))
}

// moduleSlot decodes the slot of module record r: -1 when unknown.
func moduleSlot(r []byte) int {
	return int(binary.LittleEndian.Uint32(r[offModuleSlot:])) - 1
}
