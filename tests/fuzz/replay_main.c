/*
 * replay_main.c - runs a libFuzzer target over files without libFuzzer.
 *
 * Each argument is a file or a directory of files; every file is read whole
 * and passed once to LLVMFuzzerTestOneInput. This lets the test suite replay
 * the committed corpora under any compiler and sanitizer, so a crash found
 * once stays found. Exits non-zero if an argument cannot be read or holds no
 * input at all (an empty corpus would be a test that cannot fail).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;
	int rc = -1;

	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto close_file;
	buf = malloc(n ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		goto free_buf;
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	rc = 0;
free_buf:
	free(buf);
close_file:
	fclose(f);
	return rc;
}

static long replay_path(const char *path)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	long count = 0;
	char child[4096];

	if (stat(path, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return replay_file(path) == 0 ? 1 : -1;
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
		long n = replay_path(child);
		if (n < 0) {
			closedir(d);
			return -1;
		}
		count += n;
	}
	closedir(d);
	return count;
}

int main(int argc, char **argv)
{
	long total = 0;

	for (int i = 1; i < argc; i++) {
		long n = replay_path(argv[i]);
		if (n < 0) {
			fprintf(stderr, "replay: cannot read %s\n", argv[i]);
			return 1;
		}
		total += n;
	}
	if (total == 0) {
		fprintf(stderr, "replay: no inputs\n");
		return 1;
	}
	printf("replayed %ld inputs\n", total);
	return 0;
}
