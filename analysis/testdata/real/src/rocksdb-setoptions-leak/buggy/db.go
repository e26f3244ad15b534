// Reduced from github.com/tecbot/gorocksdb db.go (MIT, see ../LICENSE).

package gorocksdb

/*
#include <stdlib.h>

typedef struct rocksdb_t rocksdb_t;

extern void rocksdb_set_options(rocksdb_t* db, int count, const char* const keys[], const char* const values[], char** errptr);
extern void rocksdb_free(void* ptr);
*/
import "C"

import (
	"errors"
	"unsafe"
)

// DB is a reusable handle to a RocksDB database on disk, created by Open.
type DB struct {
	c *C.rocksdb_t
}

// SetOptions dynamically changes options through the SetOptions API.
func (db *DB) SetOptions(keys, values []string) error {
	num_keys := len(keys)

	if num_keys == 0 {
		return nil
	}

	cKeys := make([]*C.char, num_keys)
	cValues := make([]*C.char, num_keys)
	for i := range keys {
		cKeys[i] = C.CString(keys[i])     // bug: CG013
		cValues[i] = C.CString(values[i]) // bug: CG013
	}

	var cErr *C.char

	C.rocksdb_set_options(
		db.c,
		C.int(num_keys),
		&cKeys[0],
		&cValues[0],
		&cErr,
	)
	if cErr != nil {
		defer C.rocksdb_free(unsafe.Pointer(cErr))
		return errors.New(C.GoString(cErr))
	}
	return nil
}
