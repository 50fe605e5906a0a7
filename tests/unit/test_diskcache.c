/* diskcache: an entry is read back only under its key and with its bytes
 * intact (damaged, short, long, another key, a link, another user's file:
 * absent), keys change with every part and with a file's identity, the
 * folder is bounded in files and bytes (oldest first, other programs'
 * files untouched), and a lasting font subset kept on disk reads back
 * identical to one made. */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <hb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "diskcache.h"
#include "pdffont.h"
#include "strbuf.h"

static char *S_tmpdir(void)
{
    char *d = xstrdup("/tmp/pildoc-diskcache.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(d));
    return d;
}

static void S_rmdir(char *d)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    ck_assert_int_eq(system(cmd), 0);
    free(d);
}

static void S_key(const char *what, uint8_t key[PD_DISKCACHE_KEY_SIZE])
{
    pd_diskcache_key k;
    pd_diskcache_key_init(&k, "test 1");
    pd_diskcache_key_add_str(&k, what);
    pd_diskcache_key_end(&k, key);
}

static void S_file(const char *dir, const char *name, size_t size, time_t mtime)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    for (size_t i = 0; i < size; i++)
        fputc('x', f);
    fclose(f);
    struct timespec t[2] = {{mtime, 0}, {mtime, 0}};
    ck_assert_int_eq(utimensat(AT_FDCWD, path, t, 0), 0);
}

static bool S_there(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* An entry's name for key number i. */
static void S_entry(char *out, size_t size, const char *kind, int i)
{
    uint8_t key[PD_DISKCACHE_KEY_SIZE];
    char what[16];
    snprintf(what, sizeof what, "%d", i);
    S_key(what, key);
    char *p = pd_diskcache_path("", kind, key, ".bin");
    snprintf(out, size, "%s", p + 1);
    free(p);
}

START_TEST(diskcache_reads_back_only_what_it_wrote)
{
    char *dir = S_tmpdir();
    uint8_t key[PD_DISKCACHE_KEY_SIZE], other[PD_DISKCACHE_KEY_SIZE];
    S_key("a", key);
    S_key("b", other);
    char *file = pd_diskcache_path(dir, "test", key, ".bin");
    /* named KIND-<64 hex>EXT */
    const char *base = strrchr(file, '/') + 1;
    ck_assert_uint_eq(strlen(base), 5 + 64 + 4);
    ck_assert(strncmp(base, "test-", 5) == 0);
    size_t len = 99;
    ck_assert_ptr_null(pd_diskcache_read(file, key, 100, &len)); /* none yet */
    pd_diskcache_part parts[2] = {{"hello ", 6}, {"world", 5}};
    ck_assert(pd_diskcache_write(dir, file, key, parts, 2));
    unsigned char *p = pd_diskcache_read(file, key, 100, &len);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(len, 11);
    ck_assert_str_eq((char *)p, "hello world");
    free(p);
    /* under another key, or longer than the caller takes: absent */
    ck_assert_ptr_null(pd_diskcache_read(file, other, 100, &len));
    ck_assert_ptr_null(pd_diskcache_read(file, key, 10, &len));
    /* one byte of the payload changed */
    struct stat st;
    ck_assert_int_eq(stat(file, &st), 0);
    int fd = open(file, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "H", 1, st.st_size - 11), 1);
    ck_assert_ptr_null(pd_diskcache_read(file, key, 100, &len));
    ck_assert_int_eq(pwrite(fd, "h", 1, st.st_size - 11), 1); /* restored: read again */
    p = pd_diskcache_read(file, key, 100, &len);
    ck_assert_ptr_nonnull(p);
    free(p);
    /* one byte more, one byte less */
    ck_assert_int_eq(pwrite(fd, "!", 1, st.st_size), 1);
    ck_assert_ptr_null(pd_diskcache_read(file, key, 100, &len));
    ck_assert_int_eq(ftruncate(fd, st.st_size - 1), 0);
    ck_assert_ptr_null(pd_diskcache_read(file, key, 100, &len));
    ck_assert_int_eq(ftruncate(fd, 20), 0); /* inside the header */
    ck_assert_ptr_null(pd_diskcache_read(file, key, 100, &len));
    close(fd);
    /* a symbolic link to a good entry is not followed */
    ck_assert(pd_diskcache_write(dir, file, key, parts, 2));
    char *link = pd_diskcache_path(dir, "link", key, ".bin");
    ck_assert_int_eq(symlink(file, link), 0);
    ck_assert_ptr_null(pd_diskcache_read(link, key, 100, &len));
    /* another user's file (only root can make one here): absent */
    if (geteuid() == 0) {
        ck_assert_int_eq(chown(file, 65534, 65534), 0);
        ck_assert_ptr_null(pd_diskcache_read(file, key, 100, &len));
        ck_assert_int_eq(chown(file, 0, 0), 0);
        p = pd_diskcache_read(file, key, 100, &len);
        ck_assert_ptr_nonnull(p);
        free(p);
    }
    /* an entry of another key copied under this name: absent */
    char *file2 = pd_diskcache_path(dir, "test", other, ".bin");
    ck_assert_int_eq(rename(file, file2), 0);
    ck_assert_ptr_null(pd_diskcache_read(file2, other, 100, &len));
    /* no temporary file left behind */
    char cmd[300];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s' | grep '^\\.')\"", dir);
    ck_assert_int_eq(system(cmd), 0);
    /* a folder that cannot be written: false, nothing else */
    char *gone = pd_diskcache_path("/nonexistent", "test", key, ".bin");
    ck_assert(!pd_diskcache_write("/nonexistent", gone, key, parts, 2));
    free(gone);
    free(file2);
    free(link);
    free(file);
    S_rmdir(dir);
}
END_TEST

/* A payload of strings reads back as exactly the strings written, in
 * place, and only as that many. */
START_TEST(diskcache_strings_read_back_as_written)
{
    char *dir = S_tmpdir();
    uint8_t key[PD_DISKCACHE_KEY_SIZE];
    S_key("strings", key);
    char *file = pd_diskcache_path(dir, "test", key, ".bin");
    pd_diskcache_part in[3] = {{"abc", 3}, {"", 0}, {"de", 2}}, out[4];
    ck_assert(pd_diskcache_write_strings(dir, file, key, in, 3));
    unsigned char *p = pd_diskcache_read_strings(file, key, 100, out, 3);
    ck_assert_ptr_nonnull(p);
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(out[i].len, in[i].len);
        ck_assert(memcmp(out[i].data, in[i].data, in[i].len) == 0);
    }
    ck_assert_ptr_eq(out[0].data, p + 8);
    free(p);
    /* fewer or more strings than there are: absent */
    ck_assert_ptr_null(pd_diskcache_read_strings(file, key, 100, out, 2));
    ck_assert_ptr_null(pd_diskcache_read_strings(file, key, 100, out, 4));
    /* a payload that is no list of strings (a length past its end) */
    pd_diskcache_part raw[1] = {{"\0\0\0\0\0\0\0\011abc", 11}};
    ck_assert(pd_diskcache_write(dir, file, key, raw, 1));
    ck_assert_ptr_null(pd_diskcache_read_strings(file, key, 100, out, 1));
    free(file);
    S_rmdir(dir);
}
END_TEST

START_TEST(diskcache_keys_change_with_every_part)
{
    uint8_t a[PD_DISKCACHE_KEY_SIZE], b[PD_DISKCACHE_KEY_SIZE];
    pd_diskcache_key k;
    /* parts are delimited */
    pd_diskcache_key_init(&k, "f");
    pd_diskcache_key_add_str(&k, "ab");
    pd_diskcache_key_add_str(&k, "c");
    pd_diskcache_key_end(&k, a);
    pd_diskcache_key_init(&k, "f");
    pd_diskcache_key_add_str(&k, "a");
    pd_diskcache_key_add_str(&k, "bc");
    pd_diskcache_key_end(&k, b);
    ck_assert(memcmp(a, b, sizeof a) != 0);
    /* the format counts */
    pd_diskcache_key_init(&k, "g");
    pd_diskcache_key_add_str(&k, "ab");
    pd_diskcache_key_add_str(&k, "c");
    pd_diskcache_key_end(&k, b);
    ck_assert(memcmp(a, b, sizeof a) != 0);
    /* a file's identity: a new modification time is a new key */
    char *dir = S_tmpdir();
    S_file(dir, "lib", 3, 1000);
    char path[512];
    snprintf(path, sizeof path, "%s/lib", dir);
    pd_diskcache_key_init(&k, "f");
    ck_assert(pd_diskcache_key_add_file(&k, path));
    pd_diskcache_key_end(&k, a);
    pd_diskcache_key_init(&k, "f");
    ck_assert(pd_diskcache_key_add_file(&k, path));
    pd_diskcache_key_end(&k, b);
    ck_assert(memcmp(a, b, sizeof a) == 0);
    S_file(dir, "lib", 3, 2000);
    pd_diskcache_key_init(&k, "f");
    ck_assert(pd_diskcache_key_add_file(&k, path));
    pd_diskcache_key_end(&k, b);
    ck_assert(memcmp(a, b, sizeof a) != 0);
    pd_diskcache_key_init(&k, "f");
    ck_assert(!pd_diskcache_key_add_file(&k, "/nonexistent/lib"));
    /* the executable and a library's file are found */
    ck_assert(pd_diskcache_key_add_object(&k, NULL));
    ck_assert(pd_diskcache_key_add_object(&k, "hb_version_string"));
    ck_assert(!pd_diskcache_key_add_object(&k, "no_such_function_anywhere"));
    pd_diskcache_key_end(&k, b);
    S_rmdir(dir);
}
END_TEST

START_TEST(diskcache_trim_keeps_the_newest_within_bounds)
{
    char *dir = S_tmpdir();
    char names[10][128];
    for (int i = 0; i < 10; i++) {
        S_entry(names[i], sizeof names[i], i % 2 ? "svg" : "font", i);
        S_file(dir, names[i], 100, 1000000 + i); /* names[9] the newest */
    }
    /* not pildoc's: fontconfig's cache, its tag, look-alikes */
    const char *foreign[] = {"0abfff3ae9f25b8a275cf0c572757b5d-le64.cache-8", "CACHEDIR.TAG",
                             "svg-1234.rgba", "font-XYZ.pdffont", ".hidden"};
    for (size_t i = 0; i < 5; i++)
        S_file(dir, foreign[i], 1000, 1);
    pd_diskcache_trim(dir, 6, 1 << 20);
    for (int i = 0; i < 10; i++)
        ck_assert_msg(S_there(dir, names[i]) == (i >= 4), "%s", names[i]);
    for (size_t i = 0; i < 5; i++)
        ck_assert(S_there(dir, foreign[i]));
    /* in bytes: 6 files of 100 bytes within 350 leave the 3 newest */
    pd_diskcache_trim(dir, 100, 350);
    for (int i = 4; i < 10; i++)
        ck_assert_msg(S_there(dir, names[i]) == (i >= 7), "%s", names[i]);
    /* a temporary file of a write: counted; stale (over an hour): removed */
    char tmp[160], stale[160];
    snprintf(tmp, sizeof tmp, ".%s.AbC123", names[0]);
    snprintf(stale, sizeof stale, ".%s.XyZ789", names[1]);
    S_file(dir, tmp, 100, time(NULL));
    S_file(dir, stale, 100, time(NULL) - 7200);
    pd_diskcache_trim(dir, 100, 1 << 20);
    ck_assert(S_there(dir, tmp));
    ck_assert(!S_there(dir, stale));
    pd_diskcache_trim(dir, 3, 1 << 20); /* the temporary file is the newest */
    ck_assert(S_there(dir, tmp));
    ck_assert(!S_there(dir, names[7]));
    ck_assert(S_there(dir, names[9]));
    for (size_t i = 0; i < 5; i++)
        ck_assert(S_there(dir, foreign[i]));
    S_rmdir(dir);
}
END_TEST

START_TEST(diskcache_write_bounds_the_folder)
{
    char *dir = S_tmpdir();
    char name[128];
    for (int i = 0; i < PD_DISKCACHE_MAX_FILES + 20; i++) {
        S_entry(name, sizeof name, "svg", i);
        S_file(dir, name, 1, 1000000 + i);
    }
    uint8_t key[PD_DISKCACHE_KEY_SIZE];
    S_key("new", key);
    char *file = pd_diskcache_path(dir, "font", key, ".bin");
    pd_diskcache_part part = {"x", 1};
    ck_assert(pd_diskcache_write(dir, file, key, &part, 1));
    char cmd[300];
    snprintf(cmd, sizeof cmd, "test \"$(ls '%s' | wc -l)\" = %d", dir, PD_DISKCACHE_MAX_FILES);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert(access(file, F_OK) == 0); /* the newest stays */
    S_entry(name, sizeof name, "svg", 0);
    ck_assert(!S_there(dir, name)); /* the oldest went */
    /* one entry over the byte bound: the older ones go */
    S_entry(name, sizeof name, "svg", 999999);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ck_assert_int_eq(truncate(file, 0), 0);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(truncate(path, (off_t)PD_DISKCACHE_MAX_BYTES + 1), 0); /* sparse */
    struct timespec t[2] = {{1, 0}, {1, 0}};
    ck_assert_int_eq(utimensat(AT_FDCWD, path, t, 0), 0);
    ck_assert(pd_diskcache_write(dir, file, key, &part, 1));
    ck_assert(!S_there(dir, name));
    ck_assert(access(file, F_OK) == 0);
    free(file);
    S_rmdir(dir);
}
END_TEST

/* Two subsets the same in every byte. */
static void S_same_subset(const pd_pdffont *a, const pd_pdffont *b)
{
    ck_assert_str_eq(a->base_font, b->base_font);
    ck_assert_uint_eq(a->n, b->n);
    ck_assert_uint_eq(a->program_len, b->program_len);
    ck_assert(memcmp(a->codes, b->codes, a->n * sizeof *a->codes) == 0);
    const strbuf *x[4] = {&a->program, &a->widths, &a->descriptor, &a->cidset};
    const strbuf *y[4] = {&b->program, &b->widths, &b->descriptor, &b->cidset};
    for (int k = 0; k < 4; k++) {
        ck_assert_uint_eq(x[k]->len, y[k]->len);
        ck_assert(memcmp(x[k]->data, y[k]->data, x[k]->len) == 0);
    }
}

/* A worker's passing subsets (the values' glyphs) are made from one
 * mapping of the font file, mapped again after a number of them and by a
 * lasting subset between them (pdffont.c, S_outlines_for), with one
 * compressor: each the same bytes as made by a cache of its own, for a
 * TrueType and a CFF face. */
START_TEST(pdffont_passing_subsets_share_a_mapping_identically)
{
    char *home = S_tmpdir();
    ck_assert_int_eq(chmod(home, 0700), 0);
    setenv("XDG_CACHE_HOME", home, 1);
    const char *paths[2] = {"fonts/NotoSans-Regular.ttf", "fonts/NotoSansCJKsc-Regular.otf"};
    const int counts[2] = {150, 4};
    for (int p = 0; p < 2; p++) {
        hb_blob_t *blob = hb_blob_create_from_file_or_fail(paths[p]);
        ck_assert_ptr_nonnull(blob);
        hb_face_t *face = hb_face_create(blob, 0);
        hb_blob_destroy(blob);
        pd_pdffont_cache *shared = pd_pdffont_cache_new();
        pd_pdffont_set_file(shared, face, paths[p], 0);
        for (int i = 0; i < counts[p]; i++) {
            uint32_t gids[3] = {(uint32_t)(3 + i), (uint32_t)(40 + 2 * i), (uint32_t)(300 + i)};
            bool lasting = i == 70 || i == 2;
            pd_error err = {0};
            const pd_pdffont *got = pd_pdffont_get(shared, face, gids, 3, lasting, &err);
            ck_assert_msg(got != NULL, "%s", err.msg);
            pd_pdffont_cache *own = pd_pdffont_cache_new();
            pd_pdffont_set_file(own, face, paths[p], 0);
            const pd_pdffont *want = pd_pdffont_get(own, face, gids, 3, false, &err);
            ck_assert_msg(want != NULL, "%s", err.msg);
            S_same_subset(got, want);
            pd_pdffont_cache_free(own);
        }
        pd_pdffont_cache_free(shared);
        hb_face_destroy(face);
    }
    unsetenv("XDG_CACHE_HOME");
    S_rmdir(home);
}
END_TEST

/* The same subset made by hb-subset and read back from the disk cache. */
START_TEST(pdffont_subset_kept_on_disk_reads_back_identical)
{
    char *home = S_tmpdir();
    ck_assert_int_eq(chmod(home, 0700), 0);
    setenv("XDG_CACHE_HOME", home, 1);
    const char *path = "fonts/NotoSans-Regular.ttf";
    hb_blob_t *blob = hb_blob_create_from_file_or_fail(path);
    ck_assert_ptr_nonnull(blob);
    hb_face_t *face = hb_face_create(blob, 0);
    hb_blob_destroy(blob);
    uint32_t gids[] = {3, 36, 37, 68, 69, 70, 81, 82};
    const size_t n = sizeof gids / sizeof gids[0];
    pd_pdffont *got[3];
    pd_pdffont_cache *caches[3];
    for (int i = 0; i < 3; i++) {
        /* 0: made and kept, 1: read back, 2: made again (not lasting) */
        caches[i] = pd_pdffont_cache_new();
        pd_pdffont_set_file(caches[i], face, path, 0);
        pd_error err = {0};
        got[i] = (pd_pdffont *)pd_pdffont_get(caches[i], face, gids, n, i < 2, &err);
        ck_assert_ptr_nonnull(got[i]);
        char cmd[300];
        snprintf(cmd, sizeof cmd, "test \"$(ls '%s'/pildoc/font-*.pdffont | wc -l)\" = 1", home);
        ck_assert_int_eq(system(cmd), 0);
    }
    for (int i = 1; i < 3; i++) {
        ck_assert_str_eq(got[i]->base_font, got[0]->base_font);
        ck_assert_int_eq(got[i]->cff, got[0]->cff);
        ck_assert_uint_eq(got[i]->n, n);
        ck_assert_uint_eq(got[i]->program_len, got[0]->program_len);
        ck_assert(memcmp(got[i]->gids, gids, sizeof gids) == 0);
        ck_assert(memcmp(got[i]->codes, got[0]->codes, n * sizeof *got[0]->codes) == 0);
        const strbuf *a[4] = {&got[0]->program, &got[0]->widths, &got[0]->descriptor,
                              &got[0]->cidset};
        const strbuf *b[4] = {&got[i]->program, &got[i]->widths, &got[i]->descriptor,
                              &got[i]->cidset};
        for (int k = 0; k < 4; k++) {
            ck_assert_uint_gt(a[k]->len, 0);
            ck_assert_uint_eq(a[k]->len, b[k]->len);
            ck_assert(memcmp(a[k]->data, b[k]->data, a[k]->len) == 0);
        }
    }
    /* what is read is the file's: its tag changed there shows */
    char dir[300], file[600];
    snprintf(dir, sizeof dir, "%s/pildoc", home);
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    while ((e = readdir(d)) && strncmp(e->d_name, "font-", 5) != 0)
        ;
    ck_assert_ptr_nonnull(e);
    snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
    uint8_t key[PD_DISKCACHE_KEY_SIZE];
    for (int i = 0; i < PD_DISKCACHE_KEY_SIZE; i++) {
        unsigned x;
        ck_assert_int_eq(sscanf(e->d_name + 5 + 2 * i, "%2x", &x), 1);
        key[i] = (uint8_t)x;
    }
    closedir(d);
    size_t len = 0;
    unsigned char *payload = pd_diskcache_read(file, key, 1 << 20, &len);
    ck_assert_ptr_nonnull(payload);
    unsigned char *tag = (unsigned char *)memmem(payload, len, got[0]->base_font, 7);
    ck_assert_ptr_nonnull(tag);
    tag[0] = 'q';
    pd_diskcache_part part = {payload, len};
    ck_assert(pd_diskcache_write(dir, file, key, &part, 1));
    pd_pdffont_cache *changed = pd_pdffont_cache_new();
    pd_pdffont_set_file(changed, face, path, 0);
    pd_error err = {0};
    const pd_pdffont *q = pd_pdffont_get(changed, face, gids, n, true, &err);
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(q->base_font[0], 'q');
    ck_assert_str_eq(q->base_font + 1, got[0]->base_font + 1);
    pd_pdffont_cache_free(changed);
    /* a file under the right key whose glyph ids are not those asked for
       (the last one, big-endian, just before the codes; the glyph ids
       follow the numbers' string, 8 + 17 bytes, and their own length, 8):
       made again */
    ck_assert_uint_eq(payload[33 + 4 * (n - 1) + 3], gids[n - 1]);
    payload[33 + 4 * (n - 1) + 3]++;
    ck_assert(pd_diskcache_write(dir, file, key, &part, 1));
    free(payload);
    changed = pd_pdffont_cache_new();
    pd_pdffont_set_file(changed, face, path, 0);
    q = pd_pdffont_get(changed, face, gids, n, true, &err);
    ck_assert_ptr_nonnull(q);
    ck_assert_str_eq(q->base_font, got[0]->base_font);
    pd_pdffont_cache_free(changed);
    for (int i = 0; i < 3; i++)
        pd_pdffont_cache_free(caches[i]);
    hb_face_destroy(face);
    unsetenv("XDG_CACHE_HOME");
    S_rmdir(home);
}
END_TEST

TCase *pd_test_diskcache_tcase(void)
{
    TCase *tc = tcase_create("diskcache");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, diskcache_reads_back_only_what_it_wrote);
    tcase_add_test(tc, diskcache_strings_read_back_as_written);
    tcase_add_test(tc, diskcache_keys_change_with_every_part);
    tcase_add_test(tc, diskcache_trim_keeps_the_newest_within_bounds);
    tcase_add_test(tc, diskcache_write_bounds_the_folder);
    tcase_add_test(tc, pdffont_subset_kept_on_disk_reads_back_identical);
    tcase_add_test(tc, pdffont_passing_subsets_share_a_mapping_identically);
    return tc;
}
