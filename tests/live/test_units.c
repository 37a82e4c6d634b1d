/*
 * Unit tests of the stream translated as it flows (src/stream/live.h,
 * src/live/pipe.h) on live-migration-shaped streams made by the stream
 * builder: several RAM passes in PART records that send pages again, the
 * CONTINUE chain across records, pages in the START (qemu-kvm <= 1.1),
 * footers, empty block sections. The translated output must be byte for
 * byte what the batch translator makes of the whole stream, whatever
 * pieces the input arrives in; what cannot be decided in flight is
 * refused with the reason.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "live/pipe.h"
#include "streams.h"

typedef struct Shape {
    bool pages_in_start; /* qemu-kvm <= 1.1: the first pages in the START */
    bool footers;        /* machine types >= 2.4 */
    bool block;          /* 0.15/1.0: empty "block" START/PART/END */
    bool block_data;     /* ... and one PART of it carrying a disk chunk */
    bool flash;          /* qemu-kvm 1.2 TCG: system.flash (R17) */
    bool no_hpet;        /* an RTC and no HPET: "hpet" asks for hpet=off */
    guint passes;        /* PART records of ram after the START */
} Shape;

#define RAM_ID   3
#define BLOCK_ID 2

static void fill_page(uint8_t *page, guint seed)
{
    for (guint i = 0; i < 4096; i++) {
        page[i] = (uint8_t)(seed * 31 + i);
    }
}

static void end_record(VmsBuilder *b, const Shape *sh, uint32_t id, bool ram)
{
    if (ram) {
        vms_builder_ram_eos(b);
    } else {
        vms_builder_block_eos(b);
    }
    if (sh->footers) {
        vms_builder_footer(b, id);
    }
}

/* One pass over RAM: every pc.ram page again (its bytes change with the
 * pass), the flash's pages, fill pages; CONTINUE wherever the block is the
 * previous record's, also across records. */
static void ram_pass(VmsBuilder *b, const Shape *sh, guint pass)
{
    uint8_t page[4096];

    for (guint i = 0; i < 4; i++) {
        fill_page(page, pass * 4 + i);
        vms_builder_ram_page(b, "pc.ram", i * 4096, page);
    }
    vms_builder_ram_fill(b, "pc.ram", 8 * 4096, (uint8_t)pass);
    if (sh->flash) {
        fill_page(page, 99);
        vms_builder_ram_page(b, "system.flash", 0, page);
        vms_builder_ram_fill(b, "system.flash", 4096, 0xff);
        vms_builder_ram_fill(b, "isa-bios", 0, 0xff);
    }
    vms_builder_ram_fill(b, "pc.ram", 12 * 4096, 0);
}

static GBytes *live_stream(const Shape *sh)
{
    const VmsBlockSpec plain[] = {{"pc.ram", KiB(64)}};
    const VmsBlockSpec flash[] = {{"isa-bios", KiB(128)},
                                  {"pc.ram", KiB(64)},
                                  {"system.flash", KiB(128)}};
    g_autoptr(GByteArray) out = g_byte_array_new();
    VmsBuilder *b = vms_builder_new_bytes(out);
    g_autofree uint8_t *rtc = g_malloc0(205);
    g_autofree uint8_t *pit = g_malloc0(108);
    g_autoptr(GError) err = NULL;

    vms_builder_header(b);
    if (sh->footers) {
        vms_builder_configuration(b, "pc-i440fx-2.4");
    }
    if (sh->block) {
        vms_builder_section(b, VMS_SECTION_START, BLOCK_ID, "block", 0, 1);
        end_record(b, sh, BLOCK_ID, false);
    }
    vms_builder_section(b, VMS_SECTION_START, RAM_ID, "ram", 0, 4);
    if (sh->flash) {
        vms_builder_ram_mem_size(b, flash, G_N_ELEMENTS(flash));
    } else {
        vms_builder_ram_mem_size(b, plain, G_N_ELEMENTS(plain));
    }
    if (sh->pages_in_start) {
        ram_pass(b, sh, 0);
    }
    end_record(b, sh, RAM_ID, true);
    for (guint pass = 1; pass <= sh->passes; pass++) {
        if (sh->block) {
            vms_builder_section(b, VMS_SECTION_PART, BLOCK_ID, NULL, 0, 0);
            if (sh->block_data && pass == 2) {
                g_autofree uint8_t *chunk = g_malloc0(1 << 20);
                vms_builder_be64(b, 0x01 | (8 << 9)); /* DEVICE_BLOCK */
                vms_builder_u8(b, 3);
                vms_builder_bytes(b, "hda", 3);
                vms_builder_bytes(b, chunk, 1 << 20);
            }
            end_record(b, sh, BLOCK_ID, false);
        }
        vms_builder_section(b, VMS_SECTION_PART, RAM_ID, NULL, 0, 0);
        ram_pass(b, sh, pass);
        end_record(b, sh, RAM_ID, true);
    }
    if (sh->block) {
        vms_builder_section(b, VMS_SECTION_END, BLOCK_ID, NULL, 0, 0);
        end_record(b, sh, BLOCK_ID, false);
    }
    vms_builder_section(b, VMS_SECTION_END, RAM_ID, NULL, 0, 0);
    ram_pass(b, sh, 100);
    end_record(b, sh, RAM_ID, true);
    vms_builder_section(b, VMS_SECTION_FULL, 8, "i8254", 0, 3);
    vms_builder_bytes(b, pit, 108);
    if (sh->footers) {
        vms_builder_footer(b, 8);
    }
    if (sh->no_hpet) {
        vms_builder_section(b, VMS_SECTION_FULL, 9, "mc146818rtc", 0, 2);
        vms_builder_bytes(b, rtc, 205);
        if (sh->footers) {
            vms_builder_footer(b, 9);
        }
    }
    vms_builder_eof(b);
    g_assert_true(vms_builder_finish(b, &err));
    vms_builder_free(b);
    return g_bytes_new(out->data, out->len);
}

typedef struct Flow {
    GByteArray *out;
    LiveResult res;
    GError *err;
    bool ok;
    guint heads;        /* times the head hook ran */
    size_t out_at_head; /* bytes written when the head hook ran */
} Flow;

static bool collect(void *opaque, const void *data, size_t len, GError **errp)
{
    Flow *f = opaque;

    g_byte_array_append(f->out, data, (guint)len);
    return true;
}

static bool on_head(void *opaque, const TrResult *r, GError **errp)
{
    Flow *f = opaque;

    f->heads++;
    f->out_at_head = f->out->len;
    return true;
}

static Flow *flow(GBytes *in, size_t chunk, const LiveOptions *o)
{
    Flow *f = g_new0(Flow, 1);
    gsize len;
    const void *data = g_bytes_get_data(in, &len);
    g_autoptr(VmsChannel) ch = vms_channel_new_memory(data, len, chunk, "test");
    LiveHooks h = {.write = collect, .head = on_head, .opaque = f};
    LiveOptions none = {0};

    f->out = g_byte_array_new();
    f->ok = live_translate(ch, o ? o : &none, &h, &f->res, &f->err);
    return f;
}

static void flow_free(Flow *f)
{
    g_byte_array_unref(f->out);
    live_result_clear(&f->res);
    g_clear_error(&f->err);
    g_free(f);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Flow, flow_free)

/* The batch translator's output for the whole stream. */
static GBytes *batch(GBytes *in, const TrOptions *o)
{
    g_autoptr(TsRun) run = ts_run(in, o);
    const TrFinding *no = tr_result_refusal(run->r);

    if (no) {
        g_error("batch refused: %s %s: %s", no->rule, no->subject,
                no->evidence);
    }
    return ts_apply(run);
}

static void assert_like_batch(const Shape *sh, const LiveOptions *o)
{
    g_autoptr(GBytes) in = live_stream(sh);
    g_autoptr(GBytes) want = batch(in, &o->tr);
    const size_t chunks[] = {1 << 20, 4093, 7, 1};

    for (guint i = 0; i < G_N_ELEMENTS(chunks); i++) {
        g_autoptr(Flow) f = flow(in, chunks[i], o);
        g_assert_no_error(f->err);
        g_assert_true(f->ok);
        g_assert_cmpuint(f->heads, ==, 1);
        g_assert_cmpuint(f->out_at_head, ==, 0); /* recipe before bytes */
        g_assert_cmpmem(f->out->data, f->out->len, g_bytes_get_data(want, NULL),
                        g_bytes_get_size(want));
        g_assert_cmpuint(f->res.stats.bytes_in, ==, g_bytes_get_size(in));
        g_assert_cmpuint(f->res.stats.bytes_out, ==, f->out->len);
    }
}

/* ---- the decoder --------------------------------------------------------- */

static void test_decoder_gives_back_every_byte_in_order(void)
{
    Shape sh = {.block = true, .passes = 3};
    g_autoptr(GBytes) in = live_stream(&sh);
    gsize len;
    const void *data = g_bytes_get_data(in, &len);
    g_autoptr(VmsChannel) ch = vms_channel_new_memory(data, len, 1000, "test");
    g_autoptr(VmsLive) l = vms_live_new(ch, NULL);
    g_autoptr(GByteArray) again = g_byte_array_new();
    g_autoptr(GError) err = NULL;
    guint pages = 0, records = 0, resent = 0, cont = 0;
    VmsLiveEvent ev;

    do {
        g_assert_true(vms_live_next(l, &ev, &err));
        g_assert_no_error(err);
        g_assert_cmpuint(ev.offset, ==, again->len);
        if (ev.kind == VMS_LIVE_HEAD) {
            g_assert_false(ev.head_open);
            g_assert_cmpuint(ev.head->ram_blocks->len, ==, 1);
        }
        if (ev.kind == VMS_LIVE_RECORD) {
            records++;
        }
        if (ev.kind == VMS_LIVE_PAGE) {
            pages++;
            resent += ev.page.addr == 0;
            cont += (ev.page.flags & VMS_RAM_CONTINUE) != 0;
            g_assert_cmpuint(ev.page.block, ==, 0);
        }
        if (ev.len) {
            g_byte_array_append(again, ev.data, (guint)ev.len);
        }
    } while (ev.kind != VMS_LIVE_DONE);
    g_assert_cmpmem(again->data, again->len, g_bytes_get_data(in, NULL),
                    g_bytes_get_size(in));
    g_assert_cmpuint(records, ==, 2 * 3 + 2); /* PART ram/block, END x2 */
    g_assert_cmpuint(pages, ==, 4 * 6);
    g_assert_cmpuint(resent, ==, 4); /* page 0 in every pass */
    /* the first page of each PART continues the previous record's block */
    g_assert_cmpuint(cont, ==, pages - 1);
}

static void test_decoder_continues_a_start_that_carries_pages(void)
{
    Shape sh = {.pages_in_start = true, .passes = 1};
    g_autoptr(GBytes) in = live_stream(&sh);
    gsize len;
    const void *data = g_bytes_get_data(in, &len);
    g_autoptr(VmsChannel) ch =
        vms_channel_new_memory(data, len, 1 << 20, "test");
    g_autoptr(VmsLive) l = vms_live_new(ch, NULL);
    g_autoptr(GError) err = NULL;
    VmsLiveEvent ev;

    g_assert_true(vms_live_next(l, &ev, &err));
    g_assert_cmpint(ev.kind, ==, VMS_LIVE_HEAD);
    g_assert_true(ev.head_open);
    g_assert_true(vms_live_next(l, &ev, &err));
    g_assert_cmpint(ev.kind, ==, VMS_LIVE_CONTINUE);
    g_assert_cmpint(ev.type, ==, VMS_SECTION_START);
    g_assert_true(vms_live_next(l, &ev, &err));
    g_assert_cmpint(ev.kind, ==, VMS_LIVE_PAGE);
    g_assert_cmpuint(ev.page.addr, ==, 0);
    g_assert_no_error(err);
}

static void test_decoder_refuses_what_it_cannot_delimit(void)
{
    Shape sh = {.passes = 1};
    g_autoptr(GBytes) in = live_stream(&sh);
    gsize len;
    const uint8_t *data = g_bytes_get_data(in, &len);
    g_autoptr(GByteArray) cut = g_byte_array_new();
    struct {
        size_t len;
        VmsErrorCode code;
    } cases[] = {{len / 2, VMS_ERROR_TRUNCATED}, {40, VMS_ERROR_TRUNCATED}};

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(VmsChannel) ch =
            vms_channel_new_memory(data, cases[i].len, 512, "cut");
        g_autoptr(VmsLive) l = vms_live_new(ch, NULL);
        g_autoptr(GError) err = NULL;
        VmsLiveEvent ev;
        bool ok;

        do {
            ok = vms_live_next(l, &ev, &err);
        } while (ok && ev.kind != VMS_LIVE_DONE && ev.kind != VMS_LIVE_TAIL);
        g_assert_false(ok);
        g_assert_error(err, VMS_ERROR, (gint)cases[i].code);
    }
    /* an XBZRLE page (a live migration with that capability) */
    g_byte_array_append(cut, data, (guint)len);
    {
        /* the first PART's first page word: after START ram's EOS */
        VmsLiveEvent ev;
        g_autoptr(VmsChannel) ch =
            vms_channel_new_memory(cut->data, cut->len, 1 << 20, "x");
        g_autoptr(VmsLive) l = vms_live_new(ch, NULL);
        g_autoptr(GError) err = NULL;
        size_t at = 0;
        do {
            g_assert_true(vms_live_next(l, &ev, &err));
        } while (ev.kind != VMS_LIVE_PAGE);
        at = (size_t)ev.offset;
        cut->data[at + 7] = (cut->data[at + 7] & 0xc0) | 0x40; /* XBZRLE */
        g_autoptr(VmsChannel) ch2 =
            vms_channel_new_memory(cut->data, cut->len, 1 << 20, "x");
        g_autoptr(VmsLive) l2 = vms_live_new(ch2, NULL);
        bool ok;
        do {
            ok = vms_live_next(l2, &ev, &err);
        } while (ok && ev.kind != VMS_LIVE_DONE);
        g_assert_false(ok);
        g_assert_error(err, VMS_ERROR, VMS_ERROR_UNSUPPORTED);
        g_assert_nonnull(strstr(err->message, "XBZRLE"));
    }
}

/* ---- the translation ----------------------------------------------------- */

static void test_unchanged_stream_passes_byte_for_byte(void)
{
    Shape sh = {.passes = 4};
    LiveOptions o = {0};
    g_autoptr(GBytes) in = live_stream(&sh);
    g_autoptr(Flow) f = flow(in, 4096, &o);

    g_assert_no_error(f->err);
    g_assert_cmpmem(f->out->data, f->out->len, g_bytes_get_data(in, NULL),
                    g_bytes_get_size(in));
    g_assert_cmpuint(f->res.stats.pages_rewritten, ==, 0);
}

static void test_block_sections_are_dropped_in_every_record(void)
{
    Shape sh = {.block = true, .passes = 3};
    LiveOptions o = {0};

    assert_like_batch(&sh, &o);
}

static void test_renamed_flash_mends_every_record_that_names_it(void)
{
    Shape sh = {.flash = true, .pages_in_start = true, .passes = 3};
    LiveOptions o = {.tr = {.file_dir = "/d", .file_prefix = "vm"}};
    g_autoptr(GBytes) in = live_stream(&sh);
    g_autoptr(Flow) f = flow(in, 333, &o);
    g_autoptr(GError) err = NULL;

    assert_like_batch(&sh, &o);
    /* the flash file holds the block's bytes as the stream left them */
    g_assert_true(f->ok);
    g_assert_cmpuint(f->res.files->len, ==, 1);
    {
        g_autoptr(TsRun) run = ts_run(in, &o.tr);
        g_autoptr(GBytes) want = tr_extract_block(
            run->s, run->src, vms_stream_find_block(run->s, "system.flash"),
            &err);
        g_assert_no_error(err);
        g_assert_true(g_bytes_equal(g_ptr_array_index(f->res.files, 0), want));
    }
}

static void test_qemu10_frames_every_record_and_expands_fills(void)
{
    Shape sh = {.block = true, .passes = 2};
    const char *const pcihp[] = {
        "-global", "PIIX4_PM.acpi-pci-hotplug-with-bridge-support=off", NULL};
    LiveOptions o = {.tr = {.target = tr_target_find("qemu-10.0")},
                     .also = pcihp};

    assert_like_batch(&sh, &o);
}

/* A source with footers after every section (machine types >= 2.4). */
static void test_footers_of_a_newer_source_are_kept(void)
{
    Shape sh = {.footers = true, .passes = 2};
    LiveOptions o = {.tr = {.target = tr_target_find("qemu-10.0")}};

    assert_like_batch(&sh, &o);
}

static void test_device_state_that_asks_for_more_stops_the_stream(void)
{
    Shape sh = {.no_hpet = true, .passes = 2};
    LiveOptions o = {0};
    const char *const no_hpet[] = {"-machine", "hpet=off", NULL};
    g_autoptr(GBytes) in = live_stream(&sh);
    g_autoptr(Flow) f = flow(in, 1 << 20, &o);

    g_assert_false(f->ok);
    g_assert_error(f->err, LIVE_ERROR, LIVE_ERROR_CHANGED);
    g_assert_nonnull(strstr(f->err->message, "'-machine hpet=off'"));
    /* nothing of the device state went out */
    g_assert_cmpuint(f->out->len, <, g_bytes_get_size(in) - 205);

    o.also = no_hpet;
    assert_like_batch(&sh, &o);
}

static void test_decisions_that_read_pages_are_refused_at_the_head(void)
{
    Shape sh = {.passes = 1};
    const VmsBlockSpec blocks[] = {{"pc.ram", KiB(64)},
                                   {"vga.vram", MiB(16)},
                                   {"0000:00:02.0/cirrus_vga.rom", KiB(64)}};
    g_autoptr(GByteArray) out = g_byte_array_new();
    VmsBuilder *b = ts_begin(out, 3, blocks, G_N_ELEMENTS(blocks));
    g_autoptr(GBytes) in = NULL;
    LiveOptions o = {.tr = {.shrink_vram = true}};

    (void)sh;
    ts_ram_end(b);
    vms_builder_section(b, VMS_SECTION_PART, 3, NULL, 0, 0);
    vms_builder_ram_fill(b, "vga.vram", MiB(12), 0);
    ts_ram_end(b);
    in = ts_finish(b, out);
    {
        g_autoptr(Flow) f = flow(in, 1 << 20, &o);
        g_assert_false(f->ok);
        g_assert_error(f->err, LIVE_ERROR, LIVE_ERROR_TOO_LATE);
        g_assert_nonnull(strstr(f->err->message, "R4"));
        g_assert_cmpuint(f->heads, ==, 0);
        g_assert_cmpuint(f->out->len, ==, 0);
    }
}

static void test_block_data_in_a_dropped_section_is_refused(void)
{
    Shape sh = {.block = true, .block_data = true, .passes = 3};
    LiveOptions o = {0};
    g_autoptr(GBytes) in = live_stream(&sh);
    g_autoptr(Flow) f = flow(in, 1 << 20, &o);

    g_assert_false(f->ok);
    g_assert_error(f->err, LIVE_ERROR, LIVE_ERROR_TOO_LATE);
    g_assert_nonnull(strstr(f->err->message, "block migration data"));

    /* kept, it passes */
    o.tr.keep_block_sections = true;
    g_autoptr(Flow) kept = flow(in, 1 << 20, &o);
    g_assert_no_error(kept->err);
    g_assert_cmpmem(kept->out->data, kept->out->len, g_bytes_get_data(in, NULL),
                    g_bytes_get_size(in));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/live/decoder/gives-back-every-byte-in-order",
                    test_decoder_gives_back_every_byte_in_order);
    g_test_add_func("/live/decoder/continues-a-start-that-carries-pages",
                    test_decoder_continues_a_start_that_carries_pages);
    g_test_add_func("/live/decoder/refuses-what-it-cannot-delimit",
                    test_decoder_refuses_what_it_cannot_delimit);
    g_test_add_func("/live/pipe/unchanged-stream-passes-byte-for-byte",
                    test_unchanged_stream_passes_byte_for_byte);
    g_test_add_func("/live/pipe/block-sections-are-dropped-in-every-record",
                    test_block_sections_are_dropped_in_every_record);
    g_test_add_func("/live/pipe/renamed-flash-mends-every-record-that-names-it",
                    test_renamed_flash_mends_every_record_that_names_it);
    g_test_add_func("/live/pipe/qemu10-frames-every-record-and-expands-fills",
                    test_qemu10_frames_every_record_and_expands_fills);
    g_test_add_func("/live/pipe/footers-of-a-newer-source-are-kept",
                    test_footers_of_a_newer_source_are_kept);
    g_test_add_func("/live/pipe/device-state-that-asks-for-more-stops-it",
                    test_device_state_that_asks_for_more_stops_the_stream);
    g_test_add_func("/live/pipe/decisions-that-read-pages-are-refused",
                    test_decisions_that_read_pages_are_refused_at_the_head);
    g_test_add_func("/live/pipe/block-data-in-a-dropped-section-is-refused",
                    test_block_data_in_a_dropped_section_is_refused);
    return g_test_run();
}
