package observe

// ReadStatusC reads a status file with the C reader, cg_status_read ("" for
// this process's own file).
var ReadStatusC = cReadStatus

// StatusLayoutSizes returns the sizes of the C and Go status layouts.
func StatusLayoutSizes() [2]int { return [2]int{cStatusSize, statusSize} }
