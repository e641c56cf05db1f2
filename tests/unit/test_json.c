/*
 * test_json.c - the JSON reader against JSONTestSuite: every y_ file
 * parses, every n_ file is refused, no file crashes (i_ either way).
 * The suite's directory comes from DNA_JSON_SUITE.
 */
#include "base/json.h"
#include "base/mem.h"
#include "check_macros.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    const char *dir = getenv("DNA_JSON_SUITE");
    CHECK_MSG(dir != NULL, "DNA_JSON_SUITE is not set");
    if (!dir) return check_report("json");
    DIR *d = opendir(dir);
    CHECK_MSG(d != NULL, dir);
    if (!d) return check_report("json");
    int ny = 0, nn = 0, ni = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (name[0] != 'y' && name[0] != 'n' && name[0] != 'i') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        FILE *f = fopen(path, "rb");
        CHECK_MSG(f != NULL, path);
        if (!f) continue;
        char *buf = malloc(1 << 22);
        size_t n = fread(buf, 1, 1 << 22, f);
        fclose(f);
        JsonError err;
        json_t *j = dna_json_parse(buf, n, &err);
        if (name[0] == 'y') { ny++; CHECK_MSG(j != NULL, name); }
        else if (name[0] == 'n') { nn++; CHECK_MSG(j == NULL, name); }
        else ni++;
        if (!j) CHECK_MSG(err.text[0] != 0, name);
        json_decref(j);
        free(buf);
    }
    closedir(d);
    CHECK(ny > 90 && nn > 180);
    /* our own edge cases */
    JsonError err;
    CHECK(dna_json_parse("{\"a\":1}\0", 8, &err) == NULL);
    char deep[300];
    memset(deep, '[', 200);
    memset(deep + 200, ']', 100);
    CHECK(dna_json_parse(deep, 300, &err) == NULL);
    const char *nulkey = "{\"a\\u0000b\":\"x\\u0000y\"}";
    json_t *j = dna_json_parse(nulkey, strlen(nulkey), &err);
    CHECK(j != NULL);
    json_decref(j);
    printf("json suite: %d y, %d n, %d i files\n", ny, nn, ni);
    return check_report("json");
}
