#!/bin/sh
exec app --run
