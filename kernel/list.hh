// kernel/list.hh: an intrusive, circular, doubly-linked list.
// An object joins a list through a `list_links` member; `list_head` owns a
// sentinel. container_of() turns a link back into its object.
#pragma once
#include <stddef.h>

#define container_of(ptr, T, member) \
    (reinterpret_cast<T*>(reinterpret_cast<char*>(ptr) - offsetof(T, member)))

struct list_links {
    list_links* prev = nullptr;
    list_links* next = nullptr;
    bool is_linked() const { return next != nullptr; }
};

struct list_head {
    list_links sentinel;
    list_head() { sentinel.prev = sentinel.next = &sentinel; }
    list_head(const list_head&) = delete;
    list_head& operator=(const list_head&) = delete;

    bool empty() const { return sentinel.next == &sentinel; }
    list_links* front() { return empty() ? nullptr : sentinel.next; }
    list_links* end() { return &sentinel; }
    void push_back(list_links* l) { insert_before(&sentinel, l); }
    void push_front(list_links* l) { insert_before(sentinel.next, l); }
    // insert_before(pos, l): link `l` just before `pos`.
    static void insert_before(list_links* pos, list_links* l) {
        l->next = pos;
        l->prev = pos->prev;
        pos->prev->next = l;
        pos->prev = l;
    }
    static void erase(list_links* l) {
        l->prev->next = l->next;
        l->next->prev = l->prev;
        l->next = l->prev = nullptr;
    }
    list_links* pop_front() {
        list_links* l = front();
        if (l) erase(l);
        return l;
    }
};
