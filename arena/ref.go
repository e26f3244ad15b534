package arena

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Ref names a block of an arena independently of the address it is mapped
// at: arena id, generation, offset from the start of the mapping, and
// length. It is a small value, safe to copy, to store in C memory and to
// send to another process. The zero Ref is invalid.
//
// Its binary form is 24 bytes, little-endian: arena id (4), generation (4),
// offset (8), length (8), the layout of the C struct cg_ref. Its text form
// is "cgref:<id as 8 lower-case hex digits>:<generation>:<offset>:<length>"
// in decimal, for example "cgref:1a2b3c4d:1:4096:64".
type Ref struct {
	arena uint32
	gen   uint32
	off   uint64
	len   uint64
}

// RefSize is the length of a Ref's binary form.
const RefSize = 24

const textPrefix = "cgref:"

// NewRef builds a Ref from its parts, for example from a cg_ref that C code
// filled in. Whether it is valid is decided when it is resolved.
func NewRef(arenaID, generation uint32, offset, length uint64) Ref {
	return Ref{arena: arenaID, gen: generation, off: offset, len: length}
}

// ArenaID returns the id of the arena the block belongs to.
func (r Ref) ArenaID() uint32 { return r.arena }

// Generation returns the generation the block was allocated in.
func (r Ref) Generation() uint32 { return r.gen }

// Offset returns the block's offset from the start of the arena mapping.
func (r Ref) Offset() uint64 { return r.off }

// Len returns the block's length in bytes.
func (r Ref) Len() uint64 { return r.len }

// IsZero reports whether r is the zero Ref.
func (r Ref) IsZero() bool { return r == Ref{} }

// String returns the text form.
func (r Ref) String() string {
	return textPrefix + fmt.Sprintf("%08x:%d:%d:%d", r.arena, r.gen, r.off, r.len)
}

// validate checks what can be checked without the arena.
func (r Ref) validate() error {
	switch {
	case r.arena == 0:
		return refErr(r, nil, "arena id is 0")
	case r.gen == 0:
		return refErr(r, nil, "generation is 0")
	case r.len == 0:
		return refErr(r, nil, "length is 0")
	case r.off < headerSize:
		return refErr(r, ErrOutOfBounds, "offset %d lies in the arena header (first block starts at %d)", r.off, headerSize)
	case r.off+r.len < r.off:
		return refErr(r, ErrOutOfBounds, "offset %d + length %d overflows", r.off, r.len)
	}
	return nil
}

// MarshalBinary returns the 24-byte binary form.
func (r Ref) MarshalBinary() ([]byte, error) {
	return r.AppendBinary(make([]byte, 0, RefSize))
}

// AppendBinary appends the binary form to b.
func (r Ref) AppendBinary(b []byte) ([]byte, error) {
	b = binary.LittleEndian.AppendUint32(b, r.arena)
	b = binary.LittleEndian.AppendUint32(b, r.gen)
	b = binary.LittleEndian.AppendUint64(b, r.off)
	b = binary.LittleEndian.AppendUint64(b, r.len)
	return b, nil
}

// UnmarshalBinary decodes the 24-byte binary form. It rejects input of
// another length and references no arena could hold (zero id, generation
// or length, an offset inside the header, an overflowing end).
func (r *Ref) UnmarshalBinary(b []byte) error {
	if len(b) != RefSize {
		return &RefError{Detail: fmt.Sprintf("binary reference is %d bytes, want %d", len(b), RefSize)}
	}
	v := Ref{
		arena: binary.LittleEndian.Uint32(b[0:]),
		gen:   binary.LittleEndian.Uint32(b[4:]),
		off:   binary.LittleEndian.Uint64(b[8:]),
		len:   binary.LittleEndian.Uint64(b[16:]),
	}
	if err := v.validate(); err != nil {
		return err
	}
	*r = v
	return nil
}

// MarshalText returns the text form.
func (r Ref) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText decodes the text form. Only the canonical spelling is
// accepted (lower-case hex id of 8 digits, decimal numbers without sign or
// leading zeros), so a decoded Ref marshals back to the same text.
func (r *Ref) UnmarshalText(text []byte) error {
	s := string(text)
	rest, ok := strings.CutPrefix(s, textPrefix)
	if !ok {
		return &RefError{Detail: fmt.Sprintf("text reference %q does not start with %q", clip(s), textPrefix)}
	}
	parts := strings.Split(rest, ":")
	if len(parts) != 4 {
		return &RefError{Detail: fmt.Sprintf("text reference %q has %d fields, want 4 (id:generation:offset:length)", clip(s), len(parts))}
	}
	id, err := strconv.ParseUint(parts[0], 16, 32)
	if err != nil || len(parts[0]) != 8 || strings.ToLower(parts[0]) != parts[0] {
		return &RefError{Detail: fmt.Sprintf("text reference %q: arena id %q is not 8 lower-case hex digits", clip(s), clip(parts[0]))}
	}
	var nums [3]uint64
	for i, name := range []string{"generation", "offset", "length"} {
		bits := 64
		if i == 0 {
			bits = 32
		}
		p := parts[i+1]
		n, err := strconv.ParseUint(p, 10, bits)
		if err != nil || strconv.FormatUint(n, 10) != p {
			return &RefError{Detail: fmt.Sprintf("text reference %q: %s %q is not a canonical decimal number", clip(s), name, clip(p))}
		}
		nums[i] = n
	}
	v := Ref{arena: uint32(id), gen: uint32(nums[0]), off: nums[1], len: nums[2]}
	if err := v.validate(); err != nil {
		return err
	}
	*r = v
	return nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
