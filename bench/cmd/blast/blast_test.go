package main

import (
	"net/netip"
	"testing"
	"time"

	"github.com/herald-lan/herald/multicast"
)

// blast and count agree over a lossy in-memory link: every datagram that
// arrived is counted once, the end marker stops the receiver, and a
// receiver that hears nothing more stops on idle.
func TestBlastCountsWhatArrives(t *testing.T) {
	group := netip.MustParseAddrPort("239.255.77.9:7709")
	net := multicast.NewMemNet(7)
	rx, err := net.Host(multicast.Link{Loss: 0.1, Duplicate: 0.05}).Listen(group)
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := net.Host(multicast.Link{}).Listen(group)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()

	const datagrams, size = 2000, 200
	got := make(chan recvResult, 1)
	go func() {
		res, err := count(rx, time.Now().Add(10*time.Second), 2*time.Second)
		if err != nil {
			t.Error(err)
		}
		got <- res
	}()
	sent, err := blast(tx, group, datagrams, size, 0)
	if err != nil {
		t.Fatal(err)
	}
	if sent.Datagrams != datagrams || sent.Bytes != datagrams*size {
		t.Fatalf("sent %+v", sent)
	}
	res := <-got
	if res.End != "marker" || res.Expected != datagrams {
		t.Fatalf("receiver ended %q expecting %d, want marker and %d", res.End, res.Expected, datagrams)
	}
	if res.Datagrams < datagrams*8/10 || res.Datagrams > datagrams*95/100 || res.Bytes != res.Datagrams*size {
		t.Fatalf("counted %d datagrams (%d bytes) of %d at 10%% loss", res.Datagrams, res.Bytes, datagrams)
	}
	if res.Duplicates == 0 {
		t.Error("no duplicate counted on a duplicating link")
	}
}

func TestCountStopsWhenIdle(t *testing.T) {
	group := netip.MustParseAddrPort("239.255.77.9:7709")
	net := multicast.NewMemNet(1)
	rx, _ := net.Host(multicast.Link{}).Listen(group)
	tx, _ := net.Host(multicast.Link{}).Listen(group)
	defer tx.Close()
	pkt := make([]byte, headerLen)
	header{kind: kindData, seq: 0, total: 10}.put(pkt)
	if _, err := tx.WriteBatch([][]byte{pkt}, group); err != nil {
		t.Fatal(err)
	}
	res, err := count(rx, time.Now().Add(10*time.Second), 50*time.Millisecond)
	if err != nil || res.End != "idle" || res.Datagrams != 1 {
		t.Fatalf("count = %+v, %v; want idle after 1 datagram", res, err)
	}
	rx2, _ := net.Host(multicast.Link{}).Listen(group)
	res, err = count(rx2, time.Now().Add(50*time.Millisecond), time.Hour)
	if err != nil || res.End != "timeout" || res.Datagrams != 0 {
		t.Fatalf("count = %+v, %v; want timeout with nothing", res, err)
	}
}
