/*
 * A small LRU cache of cluster-sized tables (L2 tables, refcount blocks).
 * A handful of slots found by linear scan: lookups are a few compares,
 * and memory stays bounded whatever the image size.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qcow2-internal.h"

void qcow2_cache_init(Qcow2Cache *cache, guint n_slots, size_t table_bytes)
{
    cache->slots = g_new0(Qcow2CacheSlot, n_slots);
    cache->n_slots = n_slots;
    cache->table_bytes = table_bytes;
    cache->clock = 0;
    cache->hits = cache->misses = 0;
}

void qcow2_cache_destroy(Qcow2Cache *cache)
{
    for (guint i = 0; i < cache->n_slots; i++) {
        g_free(cache->slots[i].data);
    }
    g_free(cache->slots);
    cache->slots = NULL;
    cache->n_slots = 0;
}

void *qcow2_cache_lookup(Qcow2Cache *cache, uint64_t offset)
{
    for (guint i = 0; i < cache->n_slots; i++) {
        Qcow2CacheSlot *s = &cache->slots[i];
        if (s->offset == offset && s->data) {
            s->last_use = ++cache->clock;
            cache->hits++;
            return s->data;
        }
    }
    cache->misses++;
    return NULL;
}

void *qcow2_cache_insert(Qcow2Cache *cache, uint64_t offset)
{
    Qcow2CacheSlot *victim = &cache->slots[0];

    for (guint i = 0; i < cache->n_slots; i++) {
        Qcow2CacheSlot *s = &cache->slots[i];
        if (!s->data || s->offset == 0) {
            victim = s;
            break;
        }
        if (s->last_use < victim->last_use) {
            victim = s;
        }
    }
    if (!victim->data) {
        victim->data = g_malloc(cache->table_bytes);
    }
    victim->offset = offset;
    victim->last_use = ++cache->clock;
    return victim->data;
}

void qcow2_cache_invalidate(Qcow2Cache *cache, uint64_t offset)
{
    for (guint i = 0; i < cache->n_slots; i++) {
        if (cache->slots[i].offset == offset) {
            cache->slots[i].offset = 0;
        }
    }
}
