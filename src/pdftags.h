/* pdftags: tagged PDF (PDF/UA-1) for pildoc's PDF writer.
 *
 * The painter (render.c) calls these hooks while it writes each page's
 * content stream; they wrap every item's drawing in marked content: the
 * content of a structure element (pd_item.tag, made by layout in reading
 * order) gets a marked-content identifier (MCID) on its page, everything
 * else is an /Artifact (rules, boxes, tints, the running header, footers,
 * a table header repeated on a new page). Web addresses and DOIs in the
 * text become /Link elements with a clickable Link annotation. Then
 * pd_pdftags_write writes the structure tree: a Document element whose
 * descendants mirror the document model (H1, H2, P, L/LI/Lbl/LBody,
 * Table/TR/TH/TD, information and urgent boxes, form fields, Figure with
 * its alt text, Link), the parent tree (MCIDs and annotations back to
 * their elements) and the role map of pildoc's own element types.
 * Text in another script than the document's on a line holding a filled
 * value (a Chinese name in a French sheet) is marked with its language.
 *
 * Ownership: a pd_pdftags borrows the pages and the object writer until
 * it is freed; it owns everything else it makes. Every function accepts
 * NULL for the pd_pdftags (an untagged file): then it does nothing. */
#ifndef PILDOC_PDFTAGS_H
#define PILDOC_PDFTAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layout.h"
#include "pdfobj.h"
#include "strbuf.h"

typedef struct pd_pdftags pd_pdftags;

pd_pdftags *pd_pdftags_new(const pd_pages *pages, pd_pdfobj *w);
void pd_pdftags_free(pd_pdftags *t);

/* Before item `it` of page `page` (0-based, pages in order) is painted
 * into c: ends the marked content of the item before when it belongs
 * elsewhere and begins the item's own. */
void pd_pdftags_item(pd_pdftags *t, strbuf *c, size_t page, const pd_item *it);
/* After the page's last item: ends what is open. */
void pd_pdftags_page_end(pd_pdftags *t, strbuf *c);

/* The lines of a paragraph are one marked-content sequence. A line that
 * needs more is marked inside its text object (BT ... ET), in parts:
 * the text before a web address, the address, a run in another script
 * with its language, a cluster with its own /ActualText. in_text: the
 * line being painted is; then before each cluster (at its byte index in
 * the line's layout text) text_split says whether a new part begins
 * (end the TJ array, then call text_open); line_close before ET. */
bool pd_pdftags_in_text(const pd_pdftags *t);
/* The line `it`, painted as a whole so far, must be marked in parts (a
 * cluster needs an /ActualText): the painter has taken back what it wrote
 * of the line and paints it again after this. */
void pd_pdftags_in_parts(pd_pdftags *t, strbuf *c, const pd_item *it);
bool pd_pdftags_text_split(const pd_pdftags *t, int index, const char *lang, bool own);
void pd_pdftags_text_open(pd_pdftags *t, strbuf *c, int index, const char *lang,
                          const char *actual);
void pd_pdftags_line_close(pd_pdftags *t, strbuf *c);
/* Before a line draws after its text object (underlines): an artifact
 * when the line's marked content ended with its text object. */
void pd_pdftags_after_line(pd_pdftags *t, strbuf *c);

/* The language (BCP 47) of a run of text of `script` (a PangoScript) on
 * line `it`, when it differs from the document's; else NULL. */
const char *pd_pdftags_run_lang(const pd_pdftags *t, const pd_item *it, int script);
/* As pd_pdftags_run_lang, knowing the run's language as Pango shaped it
 * (pango_language_to_string, e.g. "fr", "zh-cn"): in a bilingual document
 * a run in its second language is tagged with that language. */
const char *pd_pdftags_run_language(const pd_pdftags *t, const pd_item *it, int script,
                                    const char *shaped_as);

/* The page dictionary's entry for page `page`: /StructParents (the
 * caller writes /Tabs/S and the /Annots array). */
void pd_pdftags_page_entries(const pd_pdftags *t, strbuf *o, size_t page);
/* Appends " N 0 R" for each link annotation of page `page` to refs. */
void pd_pdftags_page_annots(const pd_pdftags *t, size_t page, strbuf *refs);
/* Writes the structure tree, the parent tree and the link annotations
 * (after every page is painted); page_objs: the pages' objects. */
void pd_pdftags_write(pd_pdftags *t, const uint32_t *page_objs);
/* A form field's widget annotation `obj` (pdfform.h) on page `page`, at
 * item `it` (its line to write on or box): a Form element holding it,
 * inside the element of the label or line it belongs with (call before
 * write, page by page, widgets in tab order). After write,
 * pd_pdftags_widget_key gives the widget's /StructParent (-1: none). */
void pd_pdftags_widget(pd_pdftags *t, size_t page, const pd_item *it, uint32_t obj);
long pd_pdftags_widget_key(const pd_pdftags *t, uint32_t obj);
/* The catalog's entries: /MarkInfo, /StructTreeRoot (after write). */
void pd_pdftags_catalog_entries(const pd_pdftags *t, strbuf *o);

#endif
