// Command announce publishes one Charlandero announcement (docs/announcements.md) and waits for RabbitMQ's
// publisher confirm. Exit 0: confirmed; 1: not confirmed (nack, unroutable, timeout, connection); 2: bad arguments.
//
//	CELERY_BROKER_URL=amqp://user:pass@host/vhost ./announce --channel C0123 --text "Deploy done" --id deploy-42
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

const (
	exchange       = "charla"
	confirmTimeout = 10 * time.Second
)

type announcement struct {
	ID       string `json:"id"`
	Channel  string `json:"channel"`
	Text     string `json:"text"`
	ThreadTS string `json:"thread_ts,omitempty"`
}

func fail(code int, format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "announce: "+format+"\n", args...)
	os.Exit(code)
}

func main() {
	var msg announcement
	flag.StringVar(&msg.Channel, "channel", "", "Slack channel id, e.g. C0123ABCD")
	flag.StringVar(&msg.Text, "text", "", "the message")
	flag.StringVar(&msg.ID, "id", "", "unique per source: a republish with the same id posts once")
	flag.StringVar(&msg.ThreadTS, "thread-ts", "", "post in this thread")
	source := flag.String("source", "go", "[a-z0-9-]{1,40}; routing key announce.<source>")
	flag.Parse()
	if msg.Channel == "" || msg.Text == "" || msg.ID == "" {
		fail(2, "--channel, --text and --id are required")
	}
	url := os.Getenv("CELERY_BROKER_URL")
	if url == "" {
		url = os.Getenv("CLOUDAMQP_URL")
	}
	if url == "" {
		fail(2, "set CELERY_BROKER_URL (or CLOUDAMQP_URL) to the broker, amqp://user:pass@host/vhost")
	}
	body, err := json.Marshal(msg)
	if err != nil {
		fail(2, "%v", err)
	}
	routingKey := "announce." + *source
	if err := publish(url, routingKey, body); err != nil {
		fail(1, "not confirmed: %v", err)
	}
	fmt.Printf("announce: confirmed %s %s\n", routingKey, msg.ID)
}

func publish(url, routingKey string, body []byte) error {
	conn, err := amqp.DialConfig(url, amqp.Config{Dial: amqp.DefaultDial(confirmTimeout)})
	if err != nil {
		return err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	if err := ch.Confirm(false); err != nil {
		return err
	}
	// mandatory: a message no queue takes is returned (before its ack) instead of vanishing.
	returns := ch.NotifyReturn(make(chan amqp.Return, 1))
	confirm, err := ch.PublishWithDeferredConfirm(exchange, routingKey, true, false, amqp.Publishing{
		ContentType: "application/json", ContentEncoding: "utf-8", DeliveryMode: amqp.Persistent, Body: body,
	})
	if err != nil {
		return err
	}
	acked := make(chan bool, 1)
	go func() { acked <- confirm.Wait() }()
	select {
	case ok := <-acked:
		if !ok {
			return fmt.Errorf("nacked by the broker (or the channel closed)")
		}
	case <-time.After(confirmTimeout):
		return fmt.Errorf("no confirm within %s", confirmTimeout)
	}
	select {
	case r := <-returns:
		return fmt.Errorf("unroutable (%s): is the worker's announcements queue declared?", r.ReplyText)
	default:
		return nil
	}
}
