// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Plain output in columns as wide as their widest cell. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"

struct table {
	int ncols, nrows;
	char **cells;	/* (nrows + 1) * ncols, row 0 is the header */
};

static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d) {
		perror("kanaryctl");
		exit(1);
	}
	return d;
}

static void add_row(struct table *t, char **row)
{
	char **cells = realloc(t->cells, sizeof(char *) * (size_t)(t->nrows + 1) * (size_t)t->ncols);

	if (!cells) {
		perror("kanaryctl");
		exit(1);
	}
	t->cells = cells;
	memcpy(&t->cells[t->nrows * t->ncols], row, sizeof(char *) * (size_t)t->ncols);
	t->nrows++;
}

struct table *table_new(int ncols, const char *const *headers)
{
	struct table *t = calloc(1, sizeof(*t));
	char *row[16];

	if (!t || ncols > 16) {
		perror("kanaryctl");
		exit(1);
	}
	t->ncols = ncols;
	for (int i = 0; i < ncols; i++)
		row[i] = xstrdup(headers[i]);
	add_row(t, row);
	return t;
}

void table_add(struct table *t, ...)
{
	char *row[16];
	va_list ap;

	va_start(ap, t);
	for (int i = 0; i < t->ncols; i++)
		row[i] = xstrdup(va_arg(ap, const char *));
	va_end(ap);
	add_row(t, row);
}

void table_print(struct table *t)
{
	int width[16] = { 0 };

	for (int r = 0; r < t->nrows; r++)
		for (int c = 0; c < t->ncols; c++) {
			int w = (int)strlen(t->cells[r * t->ncols + c]);

			if (w > width[c])
				width[c] = w;
		}
	for (int r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];

			if (c == t->ncols - 1)
				printf("%s\n", cell);
			else
				printf("%-*s  ", width[c], cell);
			free(t->cells[r * t->ncols + c]);
		}
	}
	free(t->cells);
	free(t);
}

void table_free(struct table *t)
{
	for (int i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}
