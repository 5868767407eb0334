//! The mbuf ring on a real EAL (no hugepages): FIFO order, a full ring refuses and frees
//! what does not fit, the consumer sees when producers are gone, and dropping the ends
//! frees every packet still queued.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dpdk_sys::{mbuf_ring, Eal, Mempool, RxBurst, TxBuffer};

fn packet(pool: &Mempool, tag: u8) -> dpdk_sys::Mbuf {
    let mut m = pool.alloc().expect("an mbuf");
    assert!(m.append(&[tag; 60]));
    m
}

#[test]
fn a_bounded_mpsc_ring_of_mbufs() {
    let prefix = format!("pinhole-ring-test-{}", std::process::id());
    let eal = Eal::init(
        "ring-test",
        &[
            "--no-huge",
            "--no-pci",
            "-m",
            "128",
            "--file-prefix",
            &prefix,
            "--lcores",
            "0@0",
            "--log-level",
            "error",
        ],
    )
    .expect("EAL");
    let pool = Mempool::create("ring_test_pool", 1023, 0, -1).expect("pool");

    // Capacity 8 rounds up to a 16-slot ring holding 15.
    let (producer, mut consumer) = mbuf_ring("ring_test", 8, -1).expect("ring");
    let second = producer.clone();
    let mut batch = TxBuffer::default();
    for tag in 0..10u8 {
        assert!(batch.push(packet(&pool, tag)).is_ok());
    }
    let outcome = producer.enqueue(&mut batch);
    assert_eq!((outcome.sent, outcome.dropped), (10, 0));
    assert!(batch.is_empty());
    for tag in 10..20u8 {
        assert!(batch.push(packet(&pool, tag)).is_ok());
    }
    let outcome = second.enqueue(&mut batch);
    assert_eq!(
        (outcome.sent, outcome.dropped),
        (5, 5),
        "a full ring refuses"
    );
    assert_eq!(consumer.len(), 15);
    assert_eq!(pool.in_use(), 15, "refused packets are freed");

    let mut burst = RxBurst::default();
    assert_eq!(consumer.dequeue(&mut burst), 15);
    let tags: Vec<u8> = burst.by_ref().map(|m| m.data()[0]).collect();
    assert_eq!(tags, (0..15).collect::<Vec<u8>>(), "FIFO");
    assert!(consumer.is_empty());
    assert_eq!(pool.in_use(), 0);

    assert!(consumer.has_producers());
    drop(second);
    assert!(consumer.has_producers());
    for tag in 0..3u8 {
        assert!(batch.push(packet(&pool, tag)).is_ok());
    }
    producer.enqueue(&mut batch);
    drop(producer);
    assert!(!consumer.has_producers());
    assert_eq!(consumer.len(), 3, "what was enqueued before is still there");

    // Dropping the last end frees what is left in the ring.
    drop(consumer);
    assert_eq!(pool.in_use(), 0);
    drop(burst);
    drop(pool);
    drop(eal);
}
