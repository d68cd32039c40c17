// Drives catalogue entries with Go's net/http client, many at once, and reports what each saw.
//
// Usage: go run catalogue.go < plans.json   (a JSON array of plans; prints a JSON array)
//
// A plan: {mark, url, method, headers, body, expect (ms: Transport.ExpectContinueTimeout),
// timeout (ms), followup (a URL for a second request on the same Transport), upgrade (ms to
// read after a 101), http10 is not possible: net/http always speaks HTTP/1.1}.
// Standard library only (Go 1.19).
package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"os"
	"strings"
	"sync"
	"time"
)

type plan struct {
	Mark     string            `json:"mark"`
	URL      string            `json:"url"`
	Method   string            `json:"method"`
	Headers  map[string]string `json:"headers"`
	Body     string            `json:"body"`
	Expect   int               `json:"expect"`
	Timeout  int               `json:"timeout"`
	Followup string            `json:"followup"`
	Upgrade  int               `json:"upgrade"`
	Send     string            `json:"send"`
}

type interim struct {
	Status  int                 `json:"status"`
	Headers map[string][]string `json:"headers"`
	At      float64             `json:"at"`
}

type seen struct {
	Interims    []interim           `json:"interims"`
	ContinueAt  *float64            `json:"continueAt"`
	Status      int                 `json:"status"`
	Proto       string              `json:"proto"`
	Headers     map[string][]string `json:"headers"`
	Trailers    map[string][]string `json:"trailers"`
	Length      int64               `json:"contentLength"`
	Body        string              `json:"body"`
	BodyHex     string              `json:"bodyHex"`
	Error       *string             `json:"error"`
	Kind        *string             `json:"kind"`
	EndedAt     float64             `json:"endedAt"`
	Reused      *bool               `json:"reused"`
	Connections int                 `json:"connections"`
	Followup    *seen               `json:"followup,omitempty"`
}

type result struct {
	Mark string `json:"mark"`
	Seen seen   `json:"seen"`
}

// kind names a failure by what it was, not by its wording.
func kind(err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return "timeout"
	case errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "unexpected EOF"):
		return "unexpected EOF"
	case errors.Is(err, io.EOF) || strings.HasSuffix(err.Error(), ": EOF"):
		return "EOF"
	case strings.Contains(err.Error(), "connection reset by peer"):
		return "ECONNRESET"
	case strings.Contains(err.Error(), "malformed"):
		return "malformed"
	}
	return "other"
}

func fail(s *seen, err error, now func() float64) {
	message, k := err.Error(), kind(err)
	s.Error, s.Kind, s.EndedAt = &message, &k, now()
}

func do(p plan, url string, client *http.Client, timeout time.Duration, counter *int, mu *sync.Mutex, now func() float64) seen {
	s := seen{Interims: []interim{}}
	var body io.Reader
	if p.Body != "" {
		body = strings.NewReader(p.Body)
	}
	method := p.Method
	if method == "" {
		method = "GET"
	}
	request, err := http.NewRequest(method, url, body)
	if err != nil {
		fail(&s, err, now)
		return s
	}
	for name, value := range p.Headers {
		request.Header.Set(name, value)
	}
	if p.Expect > 0 {
		request.Header.Set("Expect", "100-continue")
	}
	trace := &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			reused := info.Reused
			s.Reused = &reused
			if !reused {
				mu.Lock()
				*counter++
				mu.Unlock()
			}
		},
		Got1xxResponse: func(code int, header textproto.MIMEHeader) error {
			s.Interims = append(s.Interims, interim{code, header, now()})
			return nil
		},
		Got100Continue: func() {
			at := now()
			s.ContinueAt = &at
		},
	}
	// A deadline on the context, not http.Client.Timeout: that one wraps a 101's body and
	// hides the connection net/http hands over.
	ctx, cancel := context.WithTimeout(httptrace.WithClientTrace(request.Context(), trace), timeout)
	defer cancel()
	request = request.WithContext(ctx)
	response, err := client.Do(request)
	if err != nil {
		fail(&s, err, now)
		return s
	}
	s.Status, s.Proto, s.Headers, s.Length = response.StatusCode, response.Proto, response.Header, response.ContentLength
	if response.StatusCode == http.StatusSwitchingProtocols {
		s.Body = readUpgraded(response, p)
		s.EndedAt = now()
		return s
	}
	data, err := io.ReadAll(response.Body)
	response.Body.Close()
	s.Body, s.BodyHex, s.Trailers = string(data), hex.EncodeToString(data), response.Trailer
	if err != nil {
		fail(&s, err, now)
		return s
	}
	s.EndedAt = now()
	return s
}

// readUpgraded sends `send` on the connection net/http hands over after a 101, then reads
// what the server sends for `upgrade` ms (the raw bytes, as hex).
func readUpgraded(response *http.Response, p plan) string {
	connection, ok := response.Body.(io.ReadWriteCloser)
	if !ok {
		return ""
	}
	defer connection.Close()
	if p.Send != "" {
		frame, _ := hex.DecodeString(p.Send)
		connection.Write(frame)
	}
	var received bytes.Buffer
	done := make(chan struct{})
	go func() {
		io.Copy(&received, connection)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Duration(p.Upgrade) * time.Millisecond):
		connection.Close()
		<-done
	}
	return hex.EncodeToString(received.Bytes())
}

func run(p plan) seen {
	started := time.Now()
	now := func() float64 { return time.Since(started).Seconds() }
	timeout := time.Duration(p.Timeout) * time.Millisecond
	if timeout == 0 {
		timeout = 3 * time.Second
	}
	transport := &http.Transport{
		MaxConnsPerHost:       1,
		ExpectContinueTimeout: time.Duration(p.Expect) * time.Millisecond,
		DisableCompression:    true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	var mu sync.Mutex
	connections := 0
	s := do(p, p.URL, client, timeout, &connections, &mu, now)
	if p.Followup != "" {
		next := do(plan{Timeout: p.Timeout}, p.Followup, client, timeout, &connections, &mu, now)
		s.Followup = &next
	}
	s.Connections = connections
	return s
}

func main() {
	var plans []plan
	if err := json.NewDecoder(os.Stdin).Decode(&plans); err != nil {
		fmt.Fprintln(os.Stderr, "bad plans:", err)
		os.Exit(2)
	}
	results := make([]result, len(plans))
	var wait sync.WaitGroup
	for index, p := range plans {
		wait.Add(1)
		go func(index int, p plan) {
			defer wait.Done()
			results[index] = result{p.Mark, run(p)}
		}(index, p)
	}
	wait.Wait()
	json.NewEncoder(os.Stdout).Encode(results)
}
