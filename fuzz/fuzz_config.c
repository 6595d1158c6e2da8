/*
 * fuzz_config: libFuzzer target for the configuration loader (YAML node
 * tree, schema walk, checks). Never resolves names or reads files, so a
 * mutated input can neither reach the network nor block on a FIFO.
 */
#include <stddef.h>
#include <stdint.h>

#include "cutover/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_diag d;
	struct config *c;

	config_diag_init(&d);
	c = config_load_string_flags("fuzz.yaml", (const char *)data, size,
	    CONFIG_LOAD_NO_DNS | CONFIG_LOAD_NO_FILES, &d);
	/* The contract: a config, or NULL with at least one error. */
	if (c == NULL && d.nerrors == 0)
		__builtin_trap();
	if (c != NULL && d.nerrors != 0)
		__builtin_trap();
	config_unref(c);
	config_diag_free(&d);
	return 0;
}
