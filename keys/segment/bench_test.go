// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package segment

import (
	"fmt"
	"testing"
	"time"
)

// benchSegment is a day of 50,000 page views, 10,000 visitors of five each.
func benchSegment(b *testing.B) Segment {
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	var recs []Record
	for i := range 50000 {
		t := day.Add(time.Duration(i) * 1728 * time.Millisecond)
		v := i % 10000
		pt := fmt.Sprintf(`{"v":1,"type":"PAGEVIEW","href":"https://www.example.com/p/%d","referrer":"","pageload":%d,"timestamp":%q,"sessionId":"%032x","geo":"DE","isMobile":false,"browser":"Firefox","os":"Linux","device":"desktop","screen":"large"}`,
			i%300, 200+i%900, t.Format(isoLayout), v)
		r, err := FromPlaintext(detID(t, fmt.Sprint(i)), fmt.Sprintf("%064x", v), fmt.Sprintf("%032x", v), []byte(pt))
		if err != nil {
			b.Fatal(err)
		}
		recs = append(recs, r)
	}
	s, err := New("acct", "2026-11-22", recs, nil)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkEncode(b *testing.B) {
	s := benchSegment(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Encode(s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(s.Records))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkDecode(b *testing.B) {
	pt, err := Encode(benchSegment(b))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(pt)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := Decode(pt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(50000*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
