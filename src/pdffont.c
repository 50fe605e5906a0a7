#include "pdffont.h"

#include <fcntl.h>
#include <glib.h>
#include <hb-ot.h>
#include <hb-subset.h>
#include <libdeflate.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diskcache.h"
#include "paths.h"
#include "pdfobj.h"

/* More passing subsets (the values' glyphs) than this are dropped at the
 * next trim: a long run of unusual names must not grow forever. Lasting
 * ones (a template's base glyphs) are few and always kept. */
#define CACHE_MAX_PASSING 1024

/* Passing subsets made from one mapping of a face's file before it is
 * mapped again: opening, mapping and unmapping the file for each (a
 * document's values make one or two) was a third of their cost, and the
 * pages of the glyphs they read stay counted in the worker's memory only
 * until the next mapping. */
#define OUTLINES_MAX 64

typedef struct S_face {
    hb_face_t *face; /* a reference */
    char *path;      /* the file it was loaded from, or NULL */
    unsigned index;  /* the face's index in that file */
    /* the identity of that file (and index) for the disk cache's keys:
       0 not looked at yet, 1 found, -1 none (nothing kept on disk) */
    int file_known;
    uint8_t file_id[PD_DISKCACHE_KEY_SIZE];
    hb_font_t *font; /* at units per em, for advances */
    unsigned upem;
    bool cff;
    char *psname;
    strbuf descriptor;
    GHashTable *lasting; /* GBytes of the gid list -> pd_pdffont */
    GHashTable *passing; /* the same */
    /* the outline face (S_outline_face) of a private mapping (S_private_face)
       that passing subsets share, made again after OUTLINES_MAX of them */
    hb_face_t *outlines;
    unsigned outline_uses;
} S_face;

struct pd_pdffont_cache {
    S_face *faces;
    size_t n_faces;
    size_t n_passing;
    /* the disk cache (lasting subsets only): its folder and the part of
       every key that is the same for all subsets (see S_disk_key) */
    int disk_known; /* 0 not looked at yet, 1 usable, -1 not */
    char *disk_dir;
    uint8_t disk_env[PD_DISKCACHE_KEY_SIZE];
    pd_pdf_deflater *z; /* at PD_PDF_LEVEL_SHARED, made at the first subset */
};

pd_pdffont_cache *pd_pdffont_cache_new(void)
{
    return xcalloc(1, sizeof(pd_pdffont_cache));
}

static void S_font_free(gpointer p)
{
    pd_pdffont *f = p;
    free(f->base_font);
    free(f->gids);
    free(f->codes);
    strbuf_free(&f->program);
    strbuf_free(&f->widths);
    strbuf_free(&f->descriptor);
    strbuf_free(&f->cidset);
    free(f);
}

void pd_pdffont_cache_free(pd_pdffont_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_faces; i++) {
        S_face *f = &c->faces[i];
        g_hash_table_destroy(f->lasting);
        g_hash_table_destroy(f->passing);
        hb_face_destroy(f->outlines);
        hb_font_destroy(f->font);
        hb_face_destroy(f->face);
        free(f->psname);
        free(f->path);
        strbuf_free(&f->descriptor);
    }
    free(c->faces);
    free(c->disk_dir);
    pd_pdf_deflater_free(c->z);
    free(c);
}

void pd_pdffont_cache_trim(pd_pdffont_cache *c)
{
    if (c->n_passing <= CACHE_MAX_PASSING)
        return;
    for (size_t i = 0; i < c->n_faces; i++)
        g_hash_table_remove_all(c->faces[i].passing);
    c->n_passing = 0;
}

static int16_t S_i16(const char *p)
{
    return (int16_t)(((unsigned)(unsigned char)p[0] << 8) | (unsigned char)p[1]);
}

void pd_pdffont_describe(strbuf *d, hb_font_t *font, hb_face_t *face, double k, int flags)
{
    hb_position_t asc = 0, desc = 0, cap = 0;
    hb_ot_metrics_get_position(font, HB_OT_METRICS_TAG_HORIZONTAL_ASCENDER, &asc);
    hb_ot_metrics_get_position(font, HB_OT_METRICS_TAG_HORIZONTAL_DESCENDER, &desc);
    if (!hb_ot_metrics_get_position(font, HB_OT_METRICS_TAG_CAP_HEIGHT, &cap))
        cap = asc;
    float slant = hb_style_get_value(font, HB_STYLE_TAG_SLANT_ANGLE);
    int16_t bbox[4] = {0, 0, 0, 0};
    hb_blob_t *head = hb_face_reference_table(face, HB_TAG('h', 'e', 'a', 'd'));
    unsigned len = 0;
    const char *h = hb_blob_get_data(head, &len);
    if (len >= 44)
        for (int i = 0; i < 4; i++)
            bbox[i] = S_i16(h + 36 + (ptrdiff_t)(2 * i));
    hb_blob_destroy(head);
    strbuf_append(d, "/Flags ");
    pd_pdf_int(d, flags);
    strbuf_append(d, "/FontBBox[");
    for (int i = 0; i < 4; i++) {
        if (i)
            strbuf_append_char(d, ' ');
        pd_pdf_real(d, bbox[i] * k, 0);
    }
    strbuf_append(d, "]/ItalicAngle ");
    pd_pdf_real(d, slant, 2);
    strbuf_append(d, "/Ascent ");
    pd_pdf_real(d, asc * k, 0);
    strbuf_append(d, "/Descent ");
    pd_pdf_real(d, desc * k, 0);
    strbuf_append(d, "/CapHeight ");
    pd_pdf_real(d, cap * k, 0);
    strbuf_append(d, "/StemV 80");
}

/* FontDescriptor entries, in 1/1000 em. Flags: 4 symbolic (glyphs outside
 * the standard Latin set), 64 italic. */
static void S_describe(S_face *f)
{
    float slant = hb_style_get_value(f->font, HB_STYLE_TAG_SLANT_ANGLE);
    pd_pdffont_describe(&f->descriptor, f->font, f->face, 1000.0 / f->upem,
                        slant != 0 ? 4 + 64 : 4);
}

static S_face *S_face_for(pd_pdffont_cache *c, hb_face_t *face)
{
    for (size_t i = 0; i < c->n_faces; i++)
        if (c->faces[i].face == face)
            return &c->faces[i];
    c->faces = xrealloc(c->faces, (c->n_faces + 1) * sizeof *c->faces);
    S_face *f = &c->faces[c->n_faces++];
    memset(f, 0, sizeof *f);
    f->face = hb_face_reference(face);
    f->upem = hb_face_get_upem(face);
    if (!f->upem)
        f->upem = 1000;
    f->font = hb_font_create(face);
    hb_font_set_scale(f->font, (int)f->upem, (int)f->upem);
    hb_blob_t *cff = hb_face_reference_table(face, HB_TAG('C', 'F', 'F', ' '));
    f->cff = hb_blob_get_length(cff) > 0;
    hb_blob_destroy(cff);
    char name[128];
    unsigned size = sizeof name;
    if (!hb_ot_name_get_utf8(face, HB_OT_NAME_ID_POSTSCRIPT_NAME, HB_LANGUAGE_INVALID, &size,
                             name) ||
        !*name)
        snprintf(name, sizeof name, "Font");
    /* a PostScript name is printable ASCII without delimiters */
    for (char *p = name; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("()<>[]{}/%#", *p))
            *p = '-';
    f->psname = xstrdup(name);
    f->lasting = g_hash_table_new_full(g_bytes_hash, g_bytes_equal, (GDestroyNotify)g_bytes_unref,
                                       S_font_free);
    f->passing = g_hash_table_new_full(g_bytes_hash, g_bytes_equal, (GDestroyNotify)g_bytes_unref,
                                       S_font_free);
    S_describe(f);
    return f;
}

/* Width as written in /W: 1/1000 em, rounded to 1/1000 of that. */
static double S_width(const S_face *f, uint32_t gid)
{
    double w = hb_font_get_glyph_h_advance(f->font, gid) * 1000.0 / f->upem;
    return round(w * 1000.0) / 1000.0;
}

void pd_pdffont_set_file(pd_pdffont_cache *c, hb_face_t *face, const char *path, unsigned index)
{
    S_face *f = S_face_for(c, face);
    if (f->path || !path)
        return;
    f->path = xstrdup(path);
    f->index = index;
}

typedef struct S_mapping {
    void *address;
    size_t length;
} S_mapping;

static void S_unmap(void *p)
{
    S_mapping *m = p;
    munmap(m->address, m->length);
    free(m);
}

/* The face to subset: the same font file mapped afresh, and unmapped when
 * done. The face the shaper uses has its own mapping, and FreeType (the
 * layout's glyph extents) another: subsetting through either would keep
 * the glyph outlines it reads counted a second time in the worker's
 * memory (10 MB for the Chinese faces). No readahead: a subset reads a few
 * glyphs scattered over megabytes. NULL: use the shaper's face. */
static hb_face_t *S_private_face(const S_face *f)
{
    if (!f->path)
        return NULL;
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return NULL;
    madvise(p, (size_t)st.st_size, MADV_RANDOM);
    S_mapping *m = xmalloc(sizeof *m);
    m->address = p;
    m->length = (size_t)st.st_size;
    hb_blob_t *blob = hb_blob_create(p, (unsigned)st.st_size, HB_MEMORY_MODE_READONLY, m, S_unmap);
    hb_face_t *face = hb_face_create(blob, f->index);
    hb_blob_destroy(blob);
    return face;
}

double pd_pdffont_face_width(pd_pdffont_cache *c, hb_face_t *face, uint32_t gid)
{
    return S_width(S_face_for(c, face), gid);
}

/* "/DW d/W[c [w ...] ...]": codes whose width is the most common one are
 * left to /DW. Codes ascend in both kinds of font. */
static void S_widths(const S_face *face, pd_pdffont *f)
{
    double *w = xmalloc(f->n * sizeof *w);
    for (size_t i = 0; i < f->n; i++)
        w[i] = S_width(face, f->gids[i]);
    /* the most common width: CJK faces are mostly 1000 */
    double dw = w[0];
    size_t best = 0;
    for (size_t i = 0; i < f->n && i < 4096; i += 1 + f->n / 64) {
        size_t count = 0;
        for (size_t j = 0; j < f->n; j++)
            count += w[j] == w[i];
        if (count > best) {
            best = count;
            dw = w[i];
        }
    }
    strbuf *sb = &f->widths;
    strbuf_append(sb, "/DW ");
    pd_pdf_real(sb, dw, 3);
    strbuf_append(sb, "/W[");
    bool open = false;
    for (size_t i = 0; i < f->n; i++) {
        if (w[i] == dw) {
            if (open)
                strbuf_append_char(sb, ']');
            open = false;
            continue;
        }
        if (!open || f->codes[i] != f->codes[i - 1] + 1) {
            if (open)
                strbuf_append_char(sb, ']');
            pd_pdf_int(sb, (long)f->codes[i]);
            strbuf_append_char(sb, '[');
            open = true;
        } else {
            strbuf_append_char(sb, ' ');
        }
        pd_pdf_real(sb, w[i], 3);
    }
    if (open)
        strbuf_append_char(sb, ']');
    strbuf_append_char(sb, ']');
    free(w);
}

/* Six capital letters from the glyph set (PDF: a subset's name starts with
 * a tag naming the subset). */
static void S_tag(const S_face *face, pd_pdffont *f)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < f->n; i++)
        for (int b = 0; b < 4; b++) {
            h ^= (f->gids[i] >> (8 * b)) & 0xff;
            h *= 16777619u;
        }
    char tag[8];
    for (int i = 0; i < 6; i++) {
        tag[i] = (char)('A' + h % 26);
        h /= 26;
        h ^= h << 13; /* more letters than one 32-bit hash has base-26 digits */
    }
    tag[6] = '+';
    tag[7] = '\0';
    strbuf name = STRBUF_INIT;
    strbuf_append(&name, tag);
    strbuf_append(&name, face->psname);
    f->base_font = strbuf_take(&name);
}

/* The CIDSet (PDF/A-1): one bit per CID the font program holds, the
 * first byte's high bit for CID 0. A TrueType subset's CIDs are its glyph
 * ids, 0 to its glyph count (with any composite glyphs' parts); a CFF
 * subset keeps the original CIDs of the glyphs it was asked for, and
 * .notdef. */
static void S_cidset(pd_pdf_deflater *z, pd_pdffont *f, const hb_map_t *map, hb_face_t *sub,
                     bool cff)
{
    uint32_t max = 0;
    if (cff) {
        for (size_t i = 0; i < f->n; i++)
            if (hb_map_has(map, f->gids[i]) && f->gids[i] > max)
                max = f->gids[i];
    } else {
        unsigned n = hb_face_get_glyph_count(sub);
        max = n ? n - 1 : 0;
    }
    size_t len = max / 8 + 1;
    unsigned char *bits = xcalloc(len, 1);
    bits[0] = 0x80; /* .notdef */
    if (cff) {
        for (size_t i = 0; i < f->n; i++)
            if (hb_map_has(map, f->gids[i]))
                bits[f->gids[i] / 8] |= (unsigned char)(0x80u >> (f->gids[i] % 8));
    } else {
        for (uint32_t g = 0; g <= max; g++)
            bits[g / 8] |= (unsigned char)(0x80u >> (g % 8));
    }
    pd_pdf_deflate_with(z, &f->cidset, bits, len);
    free(bits);
}

/* A face holding only the tables an embedded font keeps, referring to
 * those of `source` (no copy). hb-subset's plan walks the whole character
 * map and the layout tables of the face it is given even when they are
 * dropped: on this face a subset takes 0.04-0.16 ms instead of 0.6 ms
 * (Noto Sans) or 4-6 ms (the Core Chinese face), measured with 12 and 600
 * glyphs. Without the character map the subset's OS/2 Unicode ranges
 * are empty, which nothing in a PDF reads. */
static hb_face_t *S_outline_face(hb_face_t *source)
{
    static const char *const tables[] = {"glyf", "loca", "head", "hhea",
                                         "hmtx", "maxp", "OS/2", "CFF "};
    hb_face_t *face = hb_face_builder_create();
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        hb_tag_t tag = hb_tag_from_string(tables[i], 4);
        hb_blob_t *blob = hb_face_reference_table(source, tag);
        if (hb_blob_get_length(blob))
            hb_face_builder_add_table(face, tag, blob);
        hb_blob_destroy(blob);
    }
    return face;
}

/* The face a subset is made from: for a lasting subset (a template's
 * base glyphs, hundreds of them) a mapping of its own, unmapped when
 * done; passing ones share one (S_face.outlines) for OUTLINES_MAX
 * subsets. The caller destroys the face it gets. */
static hb_face_t *S_outlines_for(S_face *face, bool lasting)
{
    if (lasting || face->outline_uses >= OUTLINES_MAX) {
        hb_face_destroy(face->outlines);
        face->outlines = NULL;
        face->outline_uses = 0;
    }
    if (face->outlines) {
        face->outline_uses++;
        return hb_face_reference(face->outlines);
    }
    hb_face_t *source = S_private_face(face);
    hb_face_t *outlines = S_outline_face(source ? source : face->face);
    hb_face_destroy(source); /* its tables' blobs keep the mapping */
    if (lasting)
        return outlines;
    face->outlines = outlines;
    face->outline_uses = 1;
    return hb_face_reference(outlines);
}

static bool S_subset(pd_pdffont_cache *c, S_face *face, pd_pdffont *f, bool lasting, pd_error *err)
{
    hb_subset_input_t *in = hb_subset_input_create_or_fail();
    if (!in)
        return pd_error_set(err, NULL, 0, "out of memory subsetting %s", face->psname);
    hb_set_t *glyphs = hb_subset_input_glyph_set(in);
    for (size_t i = 0; i < f->n; i++)
        hb_set_add(glyphs, f->gids[i]);
    /* only what a PDF reader uses: outlines and metrics. No layout tables
       (the text is already shaped), no hinting (pildoc paints unhinted), no
       names beyond the required ones. */
    hb_set_t *drop = hb_subset_input_set(in, HB_SUBSET_SETS_DROP_TABLE_TAG);
    static const char *const tables[] = {"GSUB", "GPOS", "GDEF", "BASE", "JSTF", "MATH", "kern",
                                         "vhea", "vmtx", "VORG", "DSIG", "hdmx", "LTSH", "VDMX",
                                         "gasp", "cmap", "name", "post", "meta", "STAT"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        hb_set_add(drop, hb_tag_from_string(tables[i], 4));
    hb_set_clear(hb_subset_input_unicode_set(in));
    hb_subset_input_set_flags(in, HB_SUBSET_FLAGS_NO_HINTING | HB_SUBSET_FLAGS_NOTDEF_OUTLINE);
    hb_face_t *outlines = S_outlines_for(face, lasting);
    hb_subset_plan_t *plan = hb_subset_plan_create_or_fail(outlines, in);
    hb_subset_input_destroy(in);
    hb_face_t *sub = plan ? hb_subset_plan_execute_or_fail(plan) : NULL;
    if (!sub) {
        hb_subset_plan_destroy(plan);
        hb_face_destroy(outlines);
        return pd_error_set(err, NULL, 0, "font subsetting failed for %s", face->psname);
    }
    const hb_map_t *map = hb_subset_plan_old_to_new_glyph_mapping(plan);
    f->codes = xmalloc(f->n * sizeof *f->codes);
    for (size_t i = 0; i < f->n; i++)
        f->codes[i] = face->cff ? f->gids[i] : hb_map_get(map, f->gids[i]);
    if (!c->z)
        c->z = pd_pdf_deflater_new(PD_PDF_LEVEL_SHARED);
    S_cidset(c->z, f, map, sub, face->cff);
    hb_subset_plan_destroy(plan);
    hb_blob_t *blob = face->cff ? hb_face_reference_table(sub, HB_TAG('C', 'F', 'F', ' '))
                                : hb_face_reference_blob(sub);
    unsigned len = 0;
    const char *data = hb_blob_get_data(blob, &len);
    f->program_len = len;
    pd_pdf_deflate_with(c->z, &f->program, data, len);
    hb_blob_destroy(blob);
    hb_face_destroy(sub);
    hb_face_destroy(outlines);
    if (!len)
        return pd_error_set(err, NULL, 0, "font subsetting gave nothing for %s", face->psname);
    return true;
}

/* --- lasting subsets kept on disk ------------------------------------------
 * Subsetting the template's base glyphs (the Core Chinese face's above
 * all) and deflating them was 3 ms of a fresh Chinese leaflet's 41 (CPU,
 * tests/bench/fresh.py, with the subsets kept and without). A
 * lasting subset (a template's base glyphs: the same in every process for
 * the same template, language and paper) is kept whole in pildoc's cache
 * folder (src/diskcache.h, font-<key>.pdffont), keyed by what decides its
 * bytes: the font file (path, device, inode, size, time) and face index,
 * pildoc's own executable, HarfBuzz's version and its subsetter's file,
 * libdeflate's file and the deflate level, and the glyph ids. A file that
 * does not match in every part is made again and replaced: the bytes
 * written are the same with or without the cache. The values' subsets
 * (passing) are small, cheap and many: not kept. */
#define DISK_FORMAT "pildoc pdffont 2"
/* a font program subset of a whole face is below this */
#define DISK_MAX_PAYLOAD ((size_t)64 << 20)

/* The folder and the keys' common part, looked up at the first use. */
static bool S_disk_ready(pd_pdffont_cache *c)
{
    if (c->disk_known)
        return c->disk_known > 0;
    c->disk_known = -1;
    pd_diskcache_key k;
    pd_diskcache_key_init(&k, DISK_FORMAT);
    pd_diskcache_key_add_str(&k, hb_version_string());
    char level[32];
    snprintf(level, sizeof level, "deflate level %d", PD_PDF_LEVEL_SHARED);
    pd_diskcache_key_add_str(&k, level);
    if (!pd_diskcache_key_add_object(&k, NULL) ||
        !pd_diskcache_key_add_object(&k, "hb_subset_plan_execute_or_fail") ||
        !pd_diskcache_key_add_object(&k, "libdeflate_zlib_compress"))
        return false;
    c->disk_dir = paths_cache_dir();
    if (!c->disk_dir)
        return false;
    pd_diskcache_key_end(&k, c->disk_env);
    c->disk_known = 1;
    return true;
}

/* The key of a subset of face f, false when nothing is kept for it. */
static bool S_disk_key(pd_pdffont_cache *c, S_face *f, const uint32_t *gids, size_t n,
                       uint8_t key[PD_DISKCACHE_KEY_SIZE])
{
    if (!f->path || !S_disk_ready(c))
        return false;
    if (!f->file_known) {
        pd_diskcache_key k;
        pd_diskcache_key_init(&k, "font file");
        char index[32];
        snprintf(index, sizeof index, "face %u", f->index);
        pd_diskcache_key_add_str(&k, index);
        pd_diskcache_key_add_str(&k, f->path);
        f->file_known = pd_diskcache_key_add_file(&k, f->path) ? 1 : -1;
        pd_diskcache_key_end(&k, f->file_id);
    }
    if (f->file_known < 0)
        return false;
    pd_diskcache_key k;
    pd_diskcache_key_init(&k, DISK_FORMAT);
    pd_diskcache_key_add(&k, c->disk_env, sizeof c->disk_env);
    pd_diskcache_key_add(&k, f->file_id, sizeof f->file_id);
    uint8_t *ids = xmalloc(4 * n + 1);
    for (size_t i = 0; i < n; i++)
        pd_diskcache_put32(ids + 4 * i, gids[i]);
    pd_diskcache_key_add(&k, ids, 4 * n);
    free(ids);
    pd_diskcache_key_end(&k, key);
    return true;
}

/* The payload's strings (pd_diskcache_write_strings): cff (1 byte), n
 * and program_len (8 bytes each, big-endian); the gids then the codes (4
 * bytes each); base_font, program, widths, descriptor, cidset. */
#define DISK_NUMS (1 + 2 * 8)

static void S_disk_keep(const pd_pdffont_cache *c, const char *file,
                        const uint8_t key[PD_DISKCACHE_KEY_SIZE], const pd_pdffont *f)
{
    uint8_t nums[DISK_NUMS];
    nums[0] = f->cff;
    pd_diskcache_put64(nums + 1, f->n);
    pd_diskcache_put64(nums + 9, f->program_len);
    uint8_t *ids = xmalloc(8 * f->n);
    for (size_t i = 0; i < f->n; i++) {
        pd_diskcache_put32(ids + 4 * i, f->gids[i]);
        pd_diskcache_put32(ids + 4 * (f->n + i), f->codes[i]);
    }
    pd_diskcache_part strings[7] = {{nums, sizeof nums},
                                    {ids, 8 * f->n},
                                    {f->base_font, strlen(f->base_font)},
                                    {f->program.data, f->program.len},
                                    {f->widths.data, f->widths.len},
                                    {f->descriptor.data, f->descriptor.len},
                                    {f->cidset.data, f->cidset.len}};
    pd_diskcache_write_strings(c->disk_dir, file, key, strings, 7);
    free(ids);
}

/* f (its gids, n and cff set) filled in from `file`; false, f unchanged,
 * when the file holds no such subset. */
static bool S_disk_load(const char *file, const uint8_t key[PD_DISKCACHE_KEY_SIZE], pd_pdffont *f)
{
    pd_diskcache_part s[7];
    uint8_t *p = pd_diskcache_read_strings(file, key, DISK_MAX_PAYLOAD, s, 7);
    if (!p)
        return false;
    const uint8_t *nums = s[0].data, *ids = s[1].data;
    bool ok = s[0].len == DISK_NUMS && nums[0] == f->cff && pd_diskcache_get64(nums + 1) == f->n &&
              s[1].len == 8 * f->n && s[2].len > 0 && s[3].len > 0;
    for (size_t i = 0; ok && i < f->n; i++)
        ok = pd_diskcache_get32(ids + 4 * i) == f->gids[i];
    if (ok) {
        f->program_len = (size_t)pd_diskcache_get64(nums + 9);
        f->codes = xmalloc(f->n * sizeof *f->codes);
        for (size_t i = 0; i < f->n; i++)
            f->codes[i] = pd_diskcache_get32(ids + 4 * (f->n + i));
        f->base_font = xstrndup(s[2].data, s[2].len);
        strbuf *bufs[4] = {&f->program, &f->widths, &f->descriptor, &f->cidset};
        for (int i = 0; i < 4; i++)
            strbuf_append_len(bufs[i], s[3 + i].data, s[3 + i].len);
    }
    free(p);
    return ok;
}

const pd_pdffont *pd_pdffont_get(pd_pdffont_cache *c, hb_face_t *face, const uint32_t *gids,
                                 size_t n, bool lasting, pd_error *err)
{
    S_face *sf = S_face_for(c, face);
    GHashTable *table = lasting ? sf->lasting : sf->passing;
    GBytes *key = g_bytes_new(gids, n * sizeof *gids);
    pd_pdffont *f = g_hash_table_lookup(table, key);
    if (f) {
        g_bytes_unref(key);
        return f;
    }
    f = xcalloc(1, sizeof *f);
    f->cff = sf->cff;
    f->n = n;
    f->gids = xmalloc(n * sizeof *gids);
    memcpy(f->gids, gids, n * sizeof *gids);
    uint8_t disk_key[PD_DISKCACHE_KEY_SIZE];
    char *file = lasting && S_disk_key(c, sf, gids, n, disk_key)
                     ? pd_diskcache_path(c->disk_dir, "font", disk_key, ".pdffont")
                     : NULL;
    if (!file || !S_disk_load(file, disk_key, f)) {
        if (!S_subset(c, sf, f, lasting, err)) {
            free(file);
            g_bytes_unref(key);
            S_font_free(f);
            return NULL;
        }
        S_tag(sf, f);
        S_widths(sf, f);
        strbuf_append_len(&f->descriptor, sf->descriptor.data, sf->descriptor.len);
        if (file)
            S_disk_keep(c, file, disk_key, f);
    }
    free(file);
    g_hash_table_insert(table, key, f);
    c->n_passing += !lasting;
    return f;
}

uint32_t pd_pdffont_code(const pd_pdffont *f, uint32_t gid)
{
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (f->gids[mid] < gid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < f->n && f->gids[lo] == gid ? f->codes[lo] : 0;
}

void pd_pdffont_write_dicts(pd_pdfobj *w, const pd_pdffont_objects *o, const char *base_font,
                            bool cff, const strbuf *widths, const strbuf *descriptor)
{
    strbuf *out = w->out;
    pd_pdfobj_begin(w, o->font);
    strbuf_append(out, "<</Type/Font/Subtype/Type0/BaseFont");
    pd_pdf_name(out, base_font);
    strbuf_printf(out, "/Encoding/Identity-H/DescendantFonts[%u 0 R]/ToUnicode %u 0 R>>", o->cid,
                  o->tounicode);
    pd_pdfobj_end(w);
    pd_pdfobj_begin(w, o->cid);
    strbuf_printf(out, "<</Type/Font/Subtype/%s/BaseFont", cff ? "CIDFontType0" : "CIDFontType2");
    pd_pdf_name(out, base_font);
    strbuf_printf(out,
                  "/CIDSystemInfo<</Registry(Adobe)/Ordering(Identity)/Supplement 0>>"
                  "/FontDescriptor %u 0 R",
                  o->descriptor);
    strbuf_append_len(out, widths->data, widths->len);
    if (!cff)
        strbuf_append(out, "/CIDToGIDMap/Identity");
    strbuf_append(out, ">>");
    pd_pdfobj_end(w);
    pd_pdfobj_begin(w, o->descriptor);
    strbuf_append(out, "<</Type/FontDescriptor/FontName");
    pd_pdf_name(out, base_font);
    strbuf_append_len(out, descriptor->data, descriptor->len);
    if (o->cidset)
        strbuf_printf(out, "/CIDSet %u 0 R", o->cidset);
    strbuf_printf(out, "/%s %u 0 R>>", cff ? "FontFile3" : "FontFile2", o->file);
    pd_pdfobj_end(w);
}

void pd_pdffont_write_program(pd_pdfobj *w, uint32_t num, bool cff, const strbuf *program,
                              size_t len)
{
    char dict[64];
    if (cff)
        snprintf(dict, sizeof dict, "/Subtype/CIDFontType0C");
    else
        snprintf(dict, sizeof dict, "/Length1 %zu", len);
    pd_pdfobj_stream_deflated(w, num, dict, program->data, program->len);
}
