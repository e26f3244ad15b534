// Reduced from github.com/libgit2/git2go merge.go (MIT, see ../LICENSE).

package git

/*
#include <stdlib.h>

typedef struct {
	const char *ancestor_label;
	const char *our_label;
	const char *their_label;
	int favor;
	unsigned int flags;
} git_merge_file_options;

typedef struct {
	const char *ptr;
	size_t size;
	const char *path;
	unsigned int mode;
} git_merge_file_input;

typedef struct {
	unsigned int automergeable;
	const char *path;
	unsigned int mode;
	const char *ptr;
	size_t len;
} git_merge_file_result;

#define GIT_MERGE_FILE_OPTIONS_VERSION 1

extern int git_merge_file_init_options(git_merge_file_options *opts, unsigned int version);
extern int git_merge_file(git_merge_file_result *out, const git_merge_file_input *ancestor, const git_merge_file_input *ours, const git_merge_file_input *theirs, const git_merge_file_options *opts);
*/
import "C"
import (
	"errors"
	"runtime"
	"unsafe"
)

// MakeGitError makes an error from a libgit2 error code.
func MakeGitError(errorCode C.int) error {
	return errors.New("git error")
}

type MergeFileFavor int

type MergeFileFlags int

type MergeFileInput struct {
	Path     string
	Mode     uint
	Contents []byte
}

func populateCMergeFileInput(c *C.git_merge_file_input, input MergeFileInput) {
	c.path = C.CString(input.Path)
	c.mode = C.uint(input.Mode)
}

func freeCMergeFileInput(c *C.git_merge_file_input) {
	C.free(unsafe.Pointer(c.path))
}

type MergeFileOptions struct {
	AncestorLabel string
	OurLabel      string
	TheirLabel    string
	Favor         MergeFileFavor
	Flags         MergeFileFlags
}

func populateCMergeFileOptions(c *C.git_merge_file_options, options MergeFileOptions) {
	c.ancestor_label = C.CString(options.AncestorLabel)
	c.our_label = C.CString(options.OurLabel)
	c.their_label = C.CString(options.TheirLabel)
	c.favor = C.int(options.Favor)
	c.flags = C.uint(options.Flags)
}

func freeCMergeFileOptions(c *C.git_merge_file_options) {
	C.free(unsafe.Pointer(c.ancestor_label))
	C.free(unsafe.Pointer(c.our_label))
	C.free(unsafe.Pointer(c.their_label))
}

type MergeFileResult struct {
	Automergeable bool
	Path          string
	Mode          uint
}

func MergeFile(ancestor MergeFileInput, ours MergeFileInput, theirs MergeFileInput, options *MergeFileOptions) (*MergeFileResult, error) {

	var cancestor C.git_merge_file_input
	var cours C.git_merge_file_input
	var ctheirs C.git_merge_file_input

	populateCMergeFileInput(&cancestor, ancestor)
	defer freeCMergeFileInput(&cancestor)
	populateCMergeFileInput(&cours, ours)
	defer freeCMergeFileInput(&cours)
	populateCMergeFileInput(&ctheirs, theirs)
	defer freeCMergeFileInput(&ctheirs)

	var copts *C.git_merge_file_options
	if options != nil {
		copts = &C.git_merge_file_options{}
		ecode := C.git_merge_file_init_options(copts, C.GIT_MERGE_FILE_OPTIONS_VERSION)
		if ecode < 0 {
			return nil, MakeGitError(ecode)
		}
		populateCMergeFileOptions(copts, *options) // bug: CG013
	}

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	var result C.git_merge_file_result
	ecode := C.git_merge_file(&result, &cancestor, &cours, &ctheirs, copts)
	if ecode < 0 {
		return nil, MakeGitError(ecode)
	}

	return &MergeFileResult{
		Automergeable: result.automergeable != 0,
		Mode:          uint(result.mode),
	}, nil

}
