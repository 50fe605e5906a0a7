/* doccache: the digest changes with every field of the document and every
 * option (a field left out would let one patient's document be served for
 * another's), its serialisation is unambiguous, and the cache hits, misses,
 * drops the least recently used and keeps within its cap. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

#include "doccache.h"
#include "image.h"
#include "strbuf.h"

static pd_image *S_image(int w, int h, const char *alt)
{
    pd_image *im = xcalloc(1, sizeof *im);
    im->width = w;
    im->height = h;
    im->rgba = xcalloc((size_t)w * (size_t)h * 4, 1);
    for (size_t i = 0; i < (size_t)w * (size_t)h * 4; i++)
        im->rgba[i] = (unsigned char)i;
    im->alt = xstrdup(alt);
    return im;
}

static void S_add(pd_doc *d, pd_text *t, const char *s, unsigned style)
{
    pd_origin o = {pd_doc_intern(d, "templates/x.xml"), 7, "value of 'patient.name'"};
    pd_text_add(t, s, strlen(s), style, o);
}

/* A document with every field set to something. */
static pd_doc *S_doc(void)
{
    pd_doc *d = pd_doc_new();
    d->lang = xstrdup("fr");
    d->lang_tag = xstrdup("fr");
    d->title = xstrdup("Title");
    d->short_title = xstrdup("Short");
    d->subject = xstrdup("Subject");
    d->author = xstrdup("Author");
    S_add(d, &d->title_text, "Title", 0);
    S_add(d, &d->subtitle_text, "Sub", PD_SPAN_ITALIC);
    d->edition = xstrdup("Version 1");
    d->footer_fmt = xstrdup("Page {page} of {pages}");
    d->continued = xstrdup("(continued)");
    d->blank_note = xstrdup("Blank.");
    S_add(d, &d->running_text, "Patient: ", 0);
    S_add(d, &d->running_text, "Zoë Martin", PD_SPAN_VALUE);
    d->columns = 1;
    pd_block *b = pd_block_append(&d->blocks, &d->n_blocks);
    b->kind = PD_BLOCK_FIELD;
    S_add(d, &b->text, "Name: ", PD_SPAN_BOLD);
    S_add(d, &b->text, "", PD_SPAN_BLANK);
    b->text.spans[1].blank_em = 12;
    b->text.spans[1].blank_kind = PD_BLANK_NAME;
    b->text.spans[1].var = pd_doc_intern(d, "patient.name");
    b->marker = xstrdup("•");
    b->urgent = 1;
    b->columns = 2;
    b->checked = 1;
    b->var = pd_doc_intern(d, "treatment.medicine");
    b->value = pd_doc_intern(d, "ketamine");
    b->answered = 1;
    b->tick = 1;
    b->label_spans = 1;
    pd_block *c = pd_block_append(&b->children, &b->n_children);
    c->kind = PD_BLOCK_PARA;
    S_add(d, &c->text, "Child", 0);
    b->n_cols = 2;
    b->widths = xcalloc(2, sizeof *b->widths);
    b->widths[0] = 1;
    b->widths[1] = 2;
    b->n_rows = 1;
    b->rows = xcalloc(1, sizeof *b->rows);
    b->rows[0].header = 1;
    b->rows[0].n_cells = 1;
    b->rows[0].cells = xcalloc(1, sizeof(pd_text));
    S_add(d, &b->rows[0].cells[0], "Cell", 0);
    b->image = S_image(2, 2, "Pictogram");
    b->width_em = 3;
    b->lang_tag = pd_doc_intern(d, "en");
    d->logo = S_image(3, 1, "Logo");
    d->also_tag = pd_doc_intern(d, "en");
    d->short_title2 = xstrdup("Short2");
    d->edition2 = xstrdup("Edition2");
    d->footer_fmt2 = xstrdup("Footer2");
    d->blank_note2 = xstrdup("Blank2");
    d->title2 = xstrdup("Title2");
    d->subject2 = xstrdup("Subject2");
    d->also_style = PD_SPAN_SECOND;
    return d;
}

static void S_set(char **p, const char *s)
{
    free(*p);
    *p = s ? xstrdup(s) : NULL;
}

static pd_block *B(pd_doc *d)
{
    return &d->blocks[0];
}

static pd_span *SP(pd_doc *d)
{
    return &d->blocks[0].text.spans[1];
}

/* One change each, to the document or to the options. */
typedef struct S_opts {
    pd_paper paper;
    pd_layout_opts layout;
    pd_pdf_info info;
    pd_doccache_opts o;
} S_opts;

static void S_opts_init(S_opts *s)
{
    s->paper = (pd_paper){"a4", 595.28, 841.89};
    s->layout = (pd_layout_opts){0};
    s->info = (pd_pdf_info){"pildoc 0.1.0", "2026-11-22T00:00:00Z", false, false};
    s->o = (pd_doccache_opts){&s->paper, &s->layout, &s->info, 0, "consent|fr|a4|0|"};
}

#define CHANGE(name, stmt)                                                                         \
    static void name(pd_doc *d, S_opts *o)                                                         \
    {                                                                                              \
        (void)d;                                                                                   \
        (void)o;                                                                                   \
        stmt;                                                                                      \
    }
CHANGE(c_lang, S_set(&d->lang, "en"))
CHANGE(c_lang_tag, S_set(&d->lang_tag, "fr-CA"))
CHANGE(c_title, S_set(&d->title, "Titlf"))
CHANGE(c_short_title, S_set(&d->short_title, NULL))
CHANGE(c_subject, S_set(&d->subject, "Subjecu"))
CHANGE(c_author, S_set(&d->author, ""))
CHANGE(c_title_text, d->title_text.spans[0].style = PD_SPAN_BOLD)
CHANGE(c_subtitle_text, S_set(&d->subtitle_text.spans[0].text, "Sud"))
CHANGE(c_edition, S_set(&d->edition, "Version 2"))
CHANGE(c_footer_fmt, S_set(&d->footer_fmt, "{page}/{pages}"))
CHANGE(c_continued, S_set(&d->continued, "(suite)"))
CHANGE(c_blank_note, S_set(&d->blank_note, NULL))
CHANGE(c_running_text, S_set(&d->running_text.spans[1].text, "Zoë Martine"))
CHANGE(c_columns, d->columns = 2)
CHANGE(c_n_blocks, d->n_blocks = 0)
CHANGE(c_kind, B(d)->kind = PD_BLOCK_SIGN)
CHANGE(c_span_text, S_set(&B(d)->text.spans[0].text, "Nom: "))
CHANGE(c_span_style, SP(d)->style |= PD_SPAN_HINT)
CHANGE(c_blank_em, SP(d)->blank_em = 13)
CHANGE(c_blank_kind, SP(d)->blank_kind = PD_BLANK_DATE)
CHANGE(c_origin_file, SP(d)->origin.file = pd_doc_intern(d, "templates/y.xml"))
CHANGE(c_origin_line, SP(d)->origin.line = 8)
CHANGE(c_origin_what, SP(d)->origin.what = NULL)
CHANGE(c_span_var, SP(d)->var = pd_doc_intern(d, "patient.id"))
CHANGE(c_marker, S_set(&B(d)->marker, "3."))
CHANGE(c_urgent, B(d)->urgent = 0)
CHANGE(c_bcolumns, B(d)->columns = 3)
CHANGE(c_checked, B(d)->checked = 0)
CHANGE(c_var, B(d)->var = NULL)
CHANGE(c_value, B(d)->value = pd_doc_intern(d, "esketamine"))
CHANGE(c_answered, B(d)->answered = 0)
CHANGE(c_tick, B(d)->tick = 0)
CHANGE(c_label_spans, B(d)->label_spans = 2)
CHANGE(c_child, S_set(&B(d)->children[0].text.spans[0].text, "Chile"))
CHANGE(c_n_children, B(d)->n_children = 0)
CHANGE(c_widths, B(d)->widths[1] = 3)
CHANGE(c_n_cols, B(d)->n_cols = 1)
CHANGE(c_header, B(d)->rows[0].header = 0)
CHANGE(c_cell, S_set(&B(d)->rows[0].cells[0].spans[0].text, "Celm"))
CHANGE(c_n_rows, B(d)->n_rows = 0)
CHANGE(c_image_pixel, B(d)->image->rgba[15] ^= 1)
CHANGE(c_image_shape, (B(d)->image->width = 1, B(d)->image->height = 4))
CHANGE(c_image_alt, S_set(&B(d)->image->alt, "Pictogran"))
CHANGE(c_image_none, (pd_image_free(B(d)->image), B(d)->image = NULL))
CHANGE(c_width_em, B(d)->width_em = 4)
CHANGE(c_block_lang, B(d)->lang_tag = NULL)
CHANGE(c_logo_pixel, d->logo->rgba[0] ^= 0x80)
CHANGE(c_logo_alt, S_set(&d->logo->alt, "Logp"))
CHANGE(c_logo_none, (pd_image_free(d->logo), d->logo = NULL))
CHANGE(c_also_tag, d->also_tag = pd_doc_intern(d, "zh-CN"))
CHANGE(c_short_title2, S_set(&d->short_title2, "Short3"))
CHANGE(c_edition2, S_set(&d->edition2, "Edition3"))
CHANGE(c_footer_fmt2, S_set(&d->footer_fmt2, "Footer3"))
CHANGE(c_blank_note2, S_set(&d->blank_note2, "Blank3"))
CHANGE(c_title2, S_set(&d->title2, "Title3"))
CHANGE(c_subject2, S_set(&d->subject2, "Subject3"))
CHANGE(c_also_style, d->also_style |= PD_SPAN_ITALIC)
CHANGE(c_pool, pd_doc_intern(d, "extra"))
CHANGE(c_paper_name, o->paper.name = "letter")
CHANGE(c_paper_width, o->paper.width = 612)
CHANGE(c_paper_height, o->paper.height = 792)
CHANGE(c_paper_none, o->o.paper = NULL)
CHANGE(c_large_print, o->layout.large_print = 1)
CHANGE(c_creator, o->info.creator = "pildoc 0.2.0")
CHANGE(c_create_date, o->info.create_date = NULL)
CHANGE(c_plain, o->info.plain = true)
CHANGE(c_pdfua, o->info.pdfua = true)
CHANGE(c_form, o->o.form = 1)
CHANGE(c_base_key, o->o.base_key = "consent|fr|a4|1|")

static const struct {
    const char *name;
    void (*change)(pd_doc *, S_opts *);
} S_changes[] = {
    {"lang", c_lang},
    {"lang_tag", c_lang_tag},
    {"title", c_title},
    {"short_title", c_short_title},
    {"subject", c_subject},
    {"author", c_author},
    {"title_text", c_title_text},
    {"subtitle_text", c_subtitle_text},
    {"edition", c_edition},
    {"footer_fmt", c_footer_fmt},
    {"continued", c_continued},
    {"blank_note", c_blank_note},
    {"running_text", c_running_text},
    {"columns", c_columns},
    {"n_blocks", c_n_blocks},
    {"kind", c_kind},
    {"span_text", c_span_text},
    {"span_style", c_span_style},
    {"blank_em", c_blank_em},
    {"blank_kind", c_blank_kind},
    {"origin_file", c_origin_file},
    {"origin_line", c_origin_line},
    {"origin_what", c_origin_what},
    {"span_var", c_span_var},
    {"marker", c_marker},
    {"urgent", c_urgent},
    {"bcolumns", c_bcolumns},
    {"checked", c_checked},
    {"var", c_var},
    {"value", c_value},
    {"answered", c_answered},
    {"tick", c_tick},
    {"label_spans", c_label_spans},
    {"child", c_child},
    {"n_children", c_n_children},
    {"widths", c_widths},
    {"n_cols", c_n_cols},
    {"header", c_header},
    {"cell", c_cell},
    {"n_rows", c_n_rows},
    {"image_pixel", c_image_pixel},
    {"image_shape", c_image_shape},
    {"image_alt", c_image_alt},
    {"image_none", c_image_none},
    {"width_em", c_width_em},
    {"block_lang", c_block_lang},
    {"logo_pixel", c_logo_pixel},
    {"logo_alt", c_logo_alt},
    {"logo_none", c_logo_none},
    {"also_tag", c_also_tag},
    {"short_title2", c_short_title2},
    {"edition2", c_edition2},
    {"footer_fmt2", c_footer_fmt2},
    {"blank_note2", c_blank_note2},
    {"title2", c_title2},
    {"subject2", c_subject2},
    {"also_style", c_also_style},
    {"pool", c_pool},
    {"paper_name", c_paper_name},
    {"paper_width", c_paper_width},
    {"paper_height", c_paper_height},
    {"paper_none", c_paper_none},
    {"large_print", c_large_print},
    {"creator", c_creator},
    {"create_date", c_create_date},
    {"plain", c_plain},
    {"pdfua", c_pdfua},
    {"form", c_form},
    {"base_key", c_base_key},
};

static void S_digest(pd_doc *d, S_opts *o, pd_doccache_key *k)
{
    pd_doccache_digest(d, &o->o, k);
}

START_TEST(doccache_digest_covers_every_field)
{
    S_opts o;
    S_opts_init(&o);
    pd_doc *d = S_doc();
    pd_doccache_key base, again;
    S_digest(d, &o, &base);
    pd_doc_free(d);
    d = S_doc();
    S_digest(d, &o, &again);
    ck_assert_mem_eq(base.sha256, again.sha256, 32);
    pd_doc_free(d);

    size_t n = sizeof S_changes / sizeof S_changes[0];
    pd_doccache_key *seen = xcalloc(n, sizeof *seen);
    for (size_t i = 0; i < n; i++) {
        S_opts_init(&o);
        d = S_doc();
        S_changes[i].change(d, &o);
        S_digest(d, &o, &seen[i]);
        ck_assert_msg(memcmp(seen[i].sha256, base.sha256, 32) != 0,
                      "a change of %s leaves the digest as it was", S_changes[i].name);
        for (size_t k = 0; k < i; k++)
            ck_assert_msg(memcmp(seen[i].sha256, seen[k].sha256, 32) != 0,
                          "changes of %s and %s give one digest", S_changes[k].name,
                          S_changes[i].name);
        /* put counts back where pd_doc_free expects them */
        d->n_blocks = 1;
        B(d)->n_rows = 1;
        B(d)->n_children = 1;
        pd_doc_free(d);
    }
    free(seen);
}
END_TEST

/* An image made by pd_image_load carries its pixels' SHA-256 (image.h),
 * which the document's digest takes instead of the pixels: loaded twice,
 * the same digest; copied, the same; another picture, another; and the
 * image's digest, not its pixels, is what the document's depends on. */
START_TEST(doccache_digest_takes_loaded_images_by_their_digest)
{
    pd_error err = {0};
    pd_image *a = pd_image_load("templates/clinics/logo-montreal.png", "templates", 512, "logo",
                                "t", 1, &err);
    ck_assert_msg(a != NULL, "%s", err.msg);
    pd_image *b =
        pd_image_load("templates/pictograms/no-driving.svg", "templates", 64, "logo", "t", 1, &err);
    ck_assert_msg(b != NULL, "%s", err.msg);
    ck_assert_int_eq(a->has_digest, 1);
    ck_assert_int_eq(b->has_digest, 1);
    /* the digest is the SHA-256 of width, height (32 bits, big-endian) and pixels */
    struct sha256_ctx ctx;
    unsigned char size[8] = {0, 0, (unsigned char)(a->width >> 8),  (unsigned char)a->width,
                             0, 0, (unsigned char)(a->height >> 8), (unsigned char)a->height},
                  want[32];
    ck_assert_int_lt(a->width, 65536);
    ck_assert_int_lt(a->height, 65536);
    sha256_init(&ctx);
    sha256_update(&ctx, 8, size);
    sha256_update(&ctx, (size_t)a->width * (size_t)a->height * 4, a->rgba);
    sha256_digest(&ctx, 32, want);
    ck_assert_mem_eq(a->digest, want, 32);
    ck_assert_mem_ne(a->digest, b->digest, 32);
    pd_image *c = pd_image_copy(a);
    ck_assert_int_eq(c->has_digest, 1);
    ck_assert_mem_eq(c->digest, a->digest, 32);

    S_opts o;
    S_opts_init(&o);
    pd_doccache_key ka, kc, kb, kd;
    pd_doc *d = S_doc();
    pd_image_free(d->logo);
    d->logo = a;
    S_digest(d, &o, &ka);
    d->logo = c;
    S_digest(d, &o, &kc);
    ck_assert_mem_eq(ka.sha256, kc.sha256, 32);
    d->logo = b;
    S_digest(d, &o, &kb);
    ck_assert_mem_ne(ka.sha256, kb.sha256, 32);
    c->digest[31] ^= 1; /* what is hashed is the digest */
    d->logo = c;
    S_digest(d, &o, &kd);
    ck_assert_mem_ne(ka.sha256, kd.sha256, 32);
    d->logo = NULL;
    pd_image_free(a);
    pd_image_free(b);
    pd_image_free(c);
    pd_doc_free(d);
}
END_TEST

/* A loaded image's copies share its pixels (image.h): the same bytes at
 * the same address, each copy with an alt text of its own, and the
 * pixels live until the last copy is freed, whichever goes first; an
 * image made otherwise is copied pixel by pixel. */
START_TEST(image_copies_share_a_loaded_image_s_pixels)
{
    pd_error err = {0};
    pd_image *a =
        pd_image_load("templates/pictograms/no-driving.svg", "templates", 64, "car", "t", 1, &err);
    ck_assert_msg(a != NULL, "%s", err.msg);
    size_t n = (size_t)a->width * (size_t)a->height * 4;
    unsigned char *want = xmalloc(n);
    memcpy(want, a->rgba, n);
    pd_image *b = pd_image_copy(a), *c = pd_image_copy(b);
    ck_assert_ptr_eq(b->rgba, a->rgba);
    ck_assert_ptr_eq(c->rgba, a->rgba);
    free(b->alt);
    b->alt = xstrdup("voiture");
    ck_assert_str_eq(a->alt, "car");
    pd_image_free(a); /* the first goes first: the copies keep the pixels */
    ck_assert(memcmp(b->rgba, want, n) == 0);
    pd_image_free(c);
    ck_assert(memcmp(b->rgba, want, n) == 0);
    pd_image_free(b);
    pd_image *own = S_image(3, 2, "made");
    pd_image *copy = pd_image_copy(own);
    ck_assert_ptr_ne(copy->rgba, own->rgba);
    ck_assert(memcmp(copy->rgba, own->rgba, 3 * 2 * 4) == 0);
    pd_image_free(own);
    pd_image_free(copy);
    free(want);
}
END_TEST

/* Where one string ends and the next begins is part of the digest, and
 * NULL is not "". */
START_TEST(doccache_digest_is_unambiguous)
{
    S_opts o;
    S_opts_init(&o);
    pd_doccache_key k1, k2;
    pd_doc *d = S_doc();
    S_set(&d->title, "ab");
    S_set(&d->short_title, "c");
    S_digest(d, &o, &k1);
    S_set(&d->title, "a");
    S_set(&d->short_title, "bc");
    S_digest(d, &o, &k2);
    ck_assert(memcmp(k1.sha256, k2.sha256, 32) != 0);
    S_set(&d->short_title, "");
    S_digest(d, &o, &k1);
    S_set(&d->short_title, NULL);
    S_digest(d, &o, &k2);
    ck_assert(memcmp(k1.sha256, k2.sha256, 32) != 0);
    /* a span split in two is another document for the writer */
    S_digest(d, &o, &k1); /* "Title" in one span */
    pd_text_clear(&d->title_text);
    S_add(d, &d->title_text, "Ti", 0);
    S_add(d, &d->title_text, "tle", PD_SPAN_ITALIC);
    d->title_text.spans[1].style = 0;
    S_digest(d, &o, &k2);
    ck_assert(memcmp(k1.sha256, k2.sha256, 32) != 0);
    pd_doc_free(d);
}
END_TEST

/* Numbers take as many bytes as they need (doccache.c): values either
 * side of each length's limit give different digests, and so does a
 * number against the same bytes in two. Strings of the document's pool
 * are hashed by their index: spans naming two pool strings in turn
 * differ from the same spans naming them the other way round, and a pool
 * string's text still counts. */
START_TEST(doccache_digest_numbers_and_pooled_strings_are_unambiguous)
{
    S_opts o;
    S_opts_init(&o);
    const long lines[] = {0, 1, 127, 128, 255, 256, 16383, 16384, 2097151, 2097152, 1L << 35, -1};
    size_t n = sizeof lines / sizeof lines[0];
    pd_doccache_key keys[sizeof lines / sizeof lines[0]];
    for (size_t i = 0; i < n; i++) {
        pd_doc *d = S_doc();
        d->title_text.spans[0].origin.line = lines[i];
        S_digest(d, &o, &keys[i]);
        for (size_t k = 0; k < i; k++)
            ck_assert_msg(memcmp(keys[i].sha256, keys[k].sha256, 32) != 0,
                          "lines %ld and %ld give one digest", lines[k], lines[i]);
        pd_doc_free(d);
    }
    /* the line 128 (two bytes) against the line 0 and a style of 1 */
    pd_doccache_key k1, k2;
    pd_doc *d = S_doc();
    d->title_text.spans[0].origin.line = 128;
    d->title_text.spans[0].style = 0;
    S_digest(d, &o, &k1);
    d->title_text.spans[0].origin.line = 0;
    d->title_text.spans[0].style = 1;
    S_digest(d, &o, &k2);
    ck_assert(memcmp(k1.sha256, k2.sha256, 32) != 0);
    pd_doc_free(d);

    pd_doc *a = S_doc(), *b = S_doc();
    const char *fa[2] = {pd_doc_intern(a, "templates/a.xml"), pd_doc_intern(a, "templates/b.xml")};
    const char *fb[2] = {pd_doc_intern(b, "templates/a.xml"), pd_doc_intern(b, "templates/b.xml")};
    for (int i = 0; i < 2; i++) {
        S_add(a, &a->running_text, "x", (unsigned)i);
        S_add(b, &b->running_text, "x", (unsigned)i);
        a->running_text.spans[a->running_text.n_spans - 1].origin.file = fa[i];
        b->running_text.spans[b->running_text.n_spans - 1].origin.file = fb[1 - i];
    }
    S_digest(a, &o, &k1);
    S_digest(b, &o, &k2);
    ck_assert(memcmp(k1.sha256, k2.sha256, 32) != 0);
    /* the same spans, a pool string's text changed */
    b->running_text.spans[b->running_text.n_spans - 2].origin.file = fb[0];
    b->running_text.spans[b->running_text.n_spans - 1].origin.file = fb[1];
    S_digest(b, &o, &k2);
    ck_assert(memcmp(k1.sha256, k2.sha256, 32) == 0);
    b->pool[b->n_pool - 1][10] = 'c'; /* "templates/c.xml" */
    S_digest(b, &o, &k2);
    ck_assert(memcmp(k1.sha256, k2.sha256, 32) != 0);
    pd_doc_free(a);
    pd_doc_free(b);
}
END_TEST

static pd_doccache_key S_key(unsigned char c)
{
    pd_doccache_key k = {{0}};
    memset(k.sha256, c, sizeof k.sha256);
    return k;
}

/* Puts len bytes of c under key n, returns that key. */
static pd_doccache_key S_put(pd_doccache *c, unsigned n, size_t len)
{
    pd_doccache_key k = {{0}};
    memcpy(k.sha256, &n, sizeof n);
    k.sha256[31] = 0xA5; /* never the zero key */
    unsigned char bytes[200];
    memset(bytes, (int)(n & 0xFF), sizeof bytes);
    pd_doccache_put(c, &k, bytes, len, n % 9 + 1);
    return k;
}

static bool S_hit(pd_doccache *c, const pd_doccache_key *k)
{
    strbuf out = STRBUF_INIT;
    size_t pages = 0;
    bool hit = pd_doccache_get(c, k, &out, &pages);
    strbuf_free(&out);
    return hit;
}

START_TEST(doccache_hits_and_misses)
{
    pd_doccache *c = pd_doccache_new(100, 50);
    pd_doccache_key a = S_key(1), b = S_key(2);
    char bytes[40];
    memset(bytes, 'A', sizeof bytes);
    strbuf out = STRBUF_INIT;
    size_t pages = 0;
    ck_assert(!pd_doccache_get(c, &a, &out, &pages));
    ck_assert_uint_eq(out.len, 0);
    pd_doccache_put(c, &a, bytes, 40, 5);
    ck_assert_uint_eq(pd_doccache_probation_bytes(c), 40);
    /* the second sight: served from probation, and now protected */
    ck_assert(pd_doccache_get(c, &a, &out, &pages));
    ck_assert_uint_eq(out.len, 40);
    ck_assert_uint_eq(pages, 5);
    ck_assert(memcmp(out.data, bytes, 40) == 0);
    ck_assert_uint_eq(pd_doccache_probation_bytes(c), 0);
    ck_assert_uint_eq(pd_doccache_bytes(c), 40);
    /* put again: nothing changes */
    pd_doccache_put(c, &a, bytes, 40, 5);
    ck_assert_uint_eq(pd_doccache_bytes(c), 40);
    ck_assert_uint_eq(pd_doccache_count(c), 1);
    ck_assert(!pd_doccache_get(c, &b, &out, &pages));
    strbuf_free(&out);
    pd_doccache_free(c);
}
END_TEST

/* A hit gives the SHA-256 of its bytes (a batch writes it in the manifest
 * without hashing the file again): the bytes' own, the same at every hit,
 * after the entry moved between segments, and for two documents apart. */
START_TEST(doccache_hits_give_the_sha256_of_their_bytes)
{
    pd_doccache *c = pd_doccache_new(1 << 20, 1 << 19);
    pd_doccache_key a = S_key(1), b = S_key(2);
    size_t n = 70000; /* pieces shared and not */
    char *x = malloc(n), *y = malloc(n);
    for (size_t i = 0; i < n; i++) {
        x[i] = (char)(i * 31 + i / 97);
        y[i] = (char)(i * 17);
    }
    pd_doccache_put(c, &a, x, n, 3);
    pd_doccache_put(c, &b, y, n, 4);
    unsigned char want[2][32], got[32];
    struct sha256_ctx ctx;
    for (int k = 0; k < 2; k++) {
        sha256_init(&ctx);
        sha256_update(&ctx, n, (const uint8_t *)(k ? y : x));
        sha256_digest(&ctx, 32, want[k]);
    }
    for (int round = 0; round < 3; round++)
        for (int k = 0; k < 2; k++) {
            strbuf out = STRBUF_INIT;
            strbuf_append(&out, "before"); /* appended to what out holds */
            size_t pages = 0;
            memset(got, 0, sizeof got);
            ck_assert(pd_doccache_get_sha256(c, k ? &b : &a, &out, &pages, got));
            ck_assert_uint_eq(out.len, 6 + n);
            ck_assert(memcmp(got, want[k], 32) == 0);
            strbuf_free(&out);
        }
    free(x);
    free(y);
    pd_doccache_free(c);
}
END_TEST

START_TEST(doccache_documents_seen_once_stay_on_probation)
{
    /* a stream of unique documents: never more than the probation cap */
    pd_doccache *c = pd_doccache_new(1000, 100);
    for (unsigned i = 0; i < 500; i++) {
        S_put(c, i, 10 + i % 41);
        ck_assert_uint_le(pd_doccache_bytes(c), 100);
        ck_assert_uint_eq(pd_doccache_bytes(c), pd_doccache_probation_bytes(c));
    }
    /* the newest is still there: a hit on its second sight */
    pd_doccache_key last = S_put(c, 499, 10 + 499 % 41);
    ck_assert(S_hit(c, &last));
    pd_doccache_free(c);
}
END_TEST

START_TEST(doccache_second_sight_promotes)
{
    pd_doccache *c = pd_doccache_new(1000, 100);
    pd_doccache_key a = S_put(c, 1, 60);
    /* pushed off probation by others before its second sight */
    for (unsigned i = 100; i < 110; i++)
        S_put(c, i, 60);
    ck_assert(!S_hit(c, &a));
    ck_assert_uint_eq(pd_doccache_ghosts(c), 10); /* a and 9 of the others */
    /* its second sight: its digest is a ghost, so it is kept protected */
    S_put(c, 1, 60);
    ck_assert_uint_eq(pd_doccache_ghosts(c), 9);
    ck_assert_uint_eq(pd_doccache_bytes(c) - pd_doccache_probation_bytes(c), 60);
    /* and stays through any number of documents seen once */
    for (unsigned i = 200; i < 400; i++)
        S_put(c, i, 60);
    ck_assert(S_hit(c, &a));
    /* a hit on probation promotes too */
    pd_doccache_key b = S_put(c, 2, 30);
    ck_assert(S_hit(c, &b));
    for (unsigned i = 400; i < 600; i++)
        S_put(c, i, 60);
    ck_assert(S_hit(c, &b));
    ck_assert(S_hit(c, &a));
    pd_doccache_free(c);
}
END_TEST

START_TEST(doccache_ghosts_are_bounded)
{
    /* larger than the probation cap: only the digest is remembered */
    pd_doccache *c = pd_doccache_new(1000, 50);
    pd_doccache_key first = S_put(c, 1, 60);
    ck_assert_uint_eq(pd_doccache_bytes(c), 0);
    ck_assert_uint_eq(pd_doccache_ghosts(c), 1);
    for (unsigned i = 2; i <= PD_DOCCACHE_GHOSTS + 10; i++) {
        S_put(c, i, 60);
        ck_assert_uint_le(pd_doccache_ghosts(c), PD_DOCCACHE_GHOSTS);
    }
    ck_assert_uint_eq(pd_doccache_ghosts(c), PD_DOCCACHE_GHOSTS);
    ck_assert_uint_eq(pd_doccache_bytes(c), 0);
    /* the oldest ghost is forgotten: its second sight is a first one again */
    S_put(c, 1, 60);
    ck_assert_uint_eq(pd_doccache_bytes(c), 0);
    ck_assert(!S_hit(c, &first));
    /* a recent one is remembered: kept, then a hit */
    pd_doccache_key recent = S_put(c, PD_DOCCACHE_GHOSTS, 60);
    ck_assert_uint_eq(pd_doccache_bytes(c), 60);
    ck_assert(S_hit(c, &recent));
    pd_doccache_free(c);
}
END_TEST

START_TEST(doccache_protected_evicts_least_recently_used_within_cap)
{
    /* protected: 100 - 20 = 80 bytes */
    pd_doccache *c = pd_doccache_new(100, 20);
    pd_doccache_key a = S_key(1), b = S_key(2), x = S_key(3), big = S_key(4);
    char bytes[101];
    memset(bytes, 'A', sizeof bytes);
    /* seen twice each (the first only a ghost: larger than probation) */
    pd_doccache_put(c, &a, bytes, 40, 5);
    pd_doccache_put(c, &a, bytes, 40, 5);
    memset(bytes, 'B', sizeof bytes);
    pd_doccache_put(c, &b, bytes, 40, 6);
    pd_doccache_put(c, &b, bytes, 40, 6);
    ck_assert_uint_eq(pd_doccache_bytes(c), 80);
    /* a is used again, so b is the least recently used when x comes */
    ck_assert(S_hit(c, &a));
    memset(bytes, 'X', sizeof bytes);
    pd_doccache_put(c, &x, bytes, 30, 7);
    pd_doccache_put(c, &x, bytes, 30, 7);
    ck_assert_uint_le(pd_doccache_bytes(c), 100);
    ck_assert_uint_eq(pd_doccache_count(c), 2);
    ck_assert(!S_hit(c, &b));
    strbuf out = STRBUF_INIT;
    size_t pages = 0;
    ck_assert(pd_doccache_get(c, &x, &out, &pages));
    ck_assert_uint_eq(out.len, 30);
    ck_assert_uint_eq(pages, 7);
    ck_assert(out.data[0] == 'X' && out.data[29] == 'X');
    strbuf_clear(&out);
    ck_assert(pd_doccache_get(c, &a, &out, &pages));
    ck_assert(out.data[0] == 'A');
    strbuf_free(&out);
    /* larger than the protected cap: not kept, and nothing dropped for it */
    pd_doccache_put(c, &big, bytes, 81, 1);
    pd_doccache_put(c, &big, bytes, 81, 1);
    ck_assert(!S_hit(c, &big));
    ck_assert_uint_eq(pd_doccache_count(c), 2);
    /* many documents, each twice: never over the caps */
    for (unsigned i = 10; i < 300; i++) {
        S_put(c, i, 1 + i % 37);
        S_put(c, i, 1 + i % 37);
        ck_assert_uint_le(pd_doccache_bytes(c), 100);
        ck_assert_uint_le(pd_doccache_probation_bytes(c), 20);
    }
    pd_doccache_free(c);
}
END_TEST

/* A PDF-like document: text, a stream of n bytes (from seed; in the
 * middle, a stray "\nendstream" when stray), text naming the document. */
static void S_pdf(strbuf *b, unsigned doc, unsigned seed, size_t n, bool stray)
{
    strbuf_clear(b);
    strbuf_printf(b, "%%PDF-1.7\n1 0 obj\n<</Length %zu>>\nstream\n", n);
    for (size_t i = 0; i < n; i++)
        strbuf_append_char(b, (char)('a' + (seed * 31 + i * 7 + i / 13) % 26));
    if (stray)
        memcpy(b->data + b->len - n / 2, "\nendstream", 10);
    strbuf_printf(b, "\nendstream\nendobj\n%% document %u\n%%%%EOF\n", doc);
}

START_TEST(doccache_shared_streams_are_held_once)
{
    pd_doccache *c = pd_doccache_new(1 << 20, 1 << 18);
    strbuf b[4] = {STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT};
    S_pdf(&b[0], 0, 1, 8000, false);
    S_pdf(&b[1], 1, 1, 8000, false); /* the same stream as document 0 */
    S_pdf(&b[2], 2, 2, 8000, true);  /* another, cut short by a stray end */
    S_pdf(&b[3], 3, 2, 500, false);  /* too small to share */
    pd_doccache_key k[4];
    size_t whole = 0;
    for (unsigned i = 0; i < 4; i++) {
        k[i] = S_key((unsigned char)(10 + i));
        pd_doccache_put(c, &k[i], b[i].data, b[i].len, i + 1);
        whole += b[i].len;
    }
    /* the caps count every document whole; the stream of 0 and 1 is held once */
    ck_assert_uint_eq(pd_doccache_bytes(c), whole);
    ck_assert_uint_eq(pd_doccache_held_bytes(c), whole - 8000);
    /* each comes back byte for byte, also once the other sharer is gone */
    for (unsigned round = 0; round < 2; round++) {
        for (unsigned i = round; i < 4; i++) {
            strbuf out = STRBUF_INIT;
            size_t pages = 0;
            ck_assert(pd_doccache_get(c, &k[i], &out, &pages));
            ck_assert_uint_eq(pages, i + 1);
            ck_assert_uint_eq(out.len, b[i].len);
            ck_assert(memcmp(out.data, b[i].data, out.len) == 0);
            strbuf_free(&out);
        }
        pd_doccache_free(c); /* round 1: a new cache without document 0 */
        c = pd_doccache_new(1 << 20, 1 << 18);
        for (unsigned i = 1; i < 4; i++)
            pd_doccache_put(c, &k[i], b[i].data, b[i].len, i + 1);
        ck_assert_uint_eq(pd_doccache_held_bytes(c), whole - b[0].len);
    }
    /* dropped documents release what they held */
    for (unsigned i = 100; i < 400; i++)
        S_put(c, i, 200);
    ck_assert_uint_eq(pd_doccache_held_bytes(c), pd_doccache_bytes(c));
    pd_doccache_free(c);
    for (unsigned i = 0; i < 4; i++)
        strbuf_free(&b[i]);
}
END_TEST

TCase *pd_test_doccache_tcase(void);
TCase *pd_test_doccache_tcase(void)
{
    TCase *tc = tcase_create("doccache");
    tcase_add_test(tc, doccache_digest_covers_every_field);
    tcase_add_test(tc, doccache_digest_is_unambiguous);
    tcase_add_test(tc, doccache_digest_numbers_and_pooled_strings_are_unambiguous);
    tcase_add_test(tc, doccache_digest_takes_loaded_images_by_their_digest);
    tcase_add_test(tc, image_copies_share_a_loaded_image_s_pixels);
    tcase_add_test(tc, doccache_hits_and_misses);
    tcase_add_test(tc, doccache_hits_give_the_sha256_of_their_bytes);
    tcase_add_test(tc, doccache_shared_streams_are_held_once);
    tcase_add_test(tc, doccache_documents_seen_once_stay_on_probation);
    tcase_add_test(tc, doccache_second_sight_promotes);
    tcase_add_test(tc, doccache_ghosts_are_bounded);
    tcase_add_test(tc, doccache_protected_evicts_least_recently_used_within_cap);
    return tc;
}
