// Copyright (C) 2019 Yasuhiro Matsumoto <mattn.jp@gmail.com>.
//
// Use of this source code is governed by an MIT-style
// license that can be found in the LICENSE file.

// Reduced from github.com/mattn/go-sqlite3 sqlite3.go.

package sqlite3

/*
#include <stdlib.h>

typedef struct sqlite3 sqlite3;

extern const char *sqlite3_db_filename(sqlite3 *db, const char *zDbName);
*/
import "C"

// SQLiteConn implements driver.Conn.
type SQLiteConn struct {
	db *C.sqlite3
}

// GetFilename returns the absolute path to the file containing
// the requested schema. When passed an empty string, it will
// instead use the database's default schema: "main".
// See: sqlite3_db_filename, https://www.sqlite.org/c3ref/db_filename.html
func (c *SQLiteConn) GetFilename(schemaName string) string {
	if schemaName == "" {
		schemaName = "main"
	}
	return C.GoString(C.sqlite3_db_filename(c.db, C.CString(schemaName))) // bug: CG013
}
