#!/bin/sh
kill 1
