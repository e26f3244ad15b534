#ifndef QUICKSTART_PARSER_H
#define QUICKSTART_PARSER_H
#include <stddef.h>

/* A request to the record parser: the input line, and where the parsed
 * value's length is written. */
struct parse_req {
	const char *line;
	size_t value_len;
	int checksum;
};

int parse_record(void *arg);
#endif
